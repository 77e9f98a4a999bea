"""The quality stage's inputs: runs pytest (JUnit + Cobertura), mypy, flake8, bandit and pip-audit and
writes their reports into reports/ for `adci gate` (or the quality-gate action) to judge.

    .venv/bin/python scripts/quality.py [--reports DIR] [--allow-unaudited]

Tools run with argument lists, never a shell. A tool that finds problems is not a failure here:
the gate decides. A tool that writes no report is (exit 1), and so is a pip-audit run that could
not reach a vulnerability service: then no pip-audit report is written, so a gate with pip-audit
thresholds fails for lack of data instead of passing on nothing, unless --allow-unaudited keeps
the report and says loudly what was not audited.
"""

import argparse
import json
import shutil
import subprocess  # nosec B404 - the tools run with fixed argument lists
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1]


def run(name: str, args: list[str], stdout_to: Path | None = None) -> int:
    print(f"── {name}: {' '.join(args[2:] if args[:2] == [sys.executable, '-m'] else args)}", flush=True)
    if stdout_to is None:
        return subprocess.run(args, cwd=EXAMPLE).returncode  # nosec B603
    with stdout_to.open("w") as out:
        return subprocess.run(args, cwd=EXAMPLE, stdout=out).returncode  # nosec B603


def check_pip_audit(report: Path, allow_unaudited: bool) -> bool:
    dependencies = json.loads(report.read_text()).get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    if not skipped:
        print(f"pip-audit audited {len(dependencies)} dependencies")
        return True
    first = skipped[0]["skip_reason"]
    message = (
        f"pip-audit could not audit {len(skipped)} of {len(dependencies)} dependencies "
        f"(the vulnerability service did not answer for them; first: {first})"
    )
    if allow_unaudited:
        print(f"WARNING: {message}; --allow-unaudited keeps {report.name}, which then lists no vulnerabilities")
        return True
    report.rename(report.with_name("pip-audit.unaudited.json"))
    print(f"ERROR: {message}; no pip-audit report written (see pip-audit.unaudited.json)", file=sys.stderr)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", default=str(EXAMPLE / "reports"), help="output directory (default reports/)")
    parser.add_argument("--allow-unaudited", action="store_true", help="keep a pip-audit report that audited nothing")
    options = parser.parse_args()
    reports = Path(options.reports).resolve()
    shutil.rmtree(reports, ignore_errors=True)
    (reports / "junit").mkdir(parents=True)
    python = sys.executable

    run(
        "pytest",
        [
            python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--junitxml={reports / 'junit' / 'pytest.xml'}",
            "--cov=ad_platform", "--cov-branch", f"--cov-report=xml:{reports / 'coverage.xml'}",
        ],
    )
    run("mypy", [python, "-m", "mypy", "--output", "json"], stdout_to=reports / "mypy.json")
    run("flake8", [python, "-m", "flake8", f"--output-file={reports / 'flake8.txt'}", "ad_platform", "tests"])
    run("bandit", [python, "-m", "bandit", "-q", "-r", "ad_platform", "-f", "json", "-o", str(reports / "bandit.json")])
    run(
        "pip-audit",
        [
            python, "-m", "pip_audit", "-r", "requirements.lock", "--require-hashes", "--disable-pip",
            "--progress-spinner", "off", "-f", "json", "-o", str(reports / "pip-audit.json"),
        ],
    )

    expected = ["junit/pytest.xml", "coverage.xml", "mypy.json", "flake8.txt", "bandit.json", "pip-audit.json"]
    missing = [name for name in expected if not (reports / name).exists()]
    if missing:
        print(f"ERROR: no report from: {', '.join(missing)}", file=sys.stderr)
        return 1
    if not check_pip_audit(reports / "pip-audit.json", options.allow_unaudited):
        return 1
    print(f"reports written to {reports}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
