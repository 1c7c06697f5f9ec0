"""The command line as a user runs it: `python -m vae ...` in a subprocess."""
import os
import subprocess
import sys

from tests.support import ROOT


def vae(*args, check=True, launcher=("-m", "vae")):
    """Run `python -m vae ARGS` (or another module launcher) from the project root."""
    env = dict(os.environ, VAE_OFFLINE="1", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, *launcher, *map(str, args)], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result
