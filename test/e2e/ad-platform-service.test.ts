// The example service's own pytest suite (unit tests in-process, integration tests against real
// uvicorn on loopback), run from its virtual environment. setup-venv.sh builds that venv from the
// hash-pinned lock on first use and returns at once when it is up to date (.ci/run calls it too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../runner/index.ts';

const example = join(repoRoot, 'examples', 'ad-platform');

test('the ad-platform example passes its pytest suite from its virtual environment', () => {
  const setup = spawnSync('bash', [join(example, 'scripts', 'setup-venv.sh')], { cwd: example, encoding: 'utf8' });
  assert.equal(setup.status, 0, `setup-venv.sh failed:\n${setup.stdout}\n${setup.stderr}`);

  const pytest = spawnSync(join(example, '.venv', 'bin', 'python'), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], {
    cwd: example,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(pytest.status, 0, `pytest failed:\n${pytest.stdout}\n${pytest.stderr}`);
  const summary = /(\d+) passed/.exec(pytest.stdout);
  assert.ok(summary && Number(summary[1]) >= 40, `expected the whole suite to run:\n${pytest.stdout}`);
  assert.doesNotMatch(pytest.stdout, /\d+ (failed|error)/);
});
