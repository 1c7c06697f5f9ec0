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


def vae_here(capsys, *args) -> tuple[int, str, str]:
    """`vae.cli.main(ARGS)` in this process (a subprocess pays for importing torch again, ~2 core-s): (exit status,
    stdout, stderr) as `python -m vae` ends, whose __main__ is `sys.exit(main())`; an exception escaping main fails
    the test, as a traceback would."""
    from vae.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
