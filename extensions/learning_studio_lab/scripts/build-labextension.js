#!/usr/bin/env node
// Build the prebuilt labextension with @jupyterlab/builder (webpack), without the
// `jupyter labextension build` wrapper: JupyterLab 4.6's wrapper refuses Node.js < 20.19,
// while the learner image builds from source with Debian bookworm's Node.js 18, which
// webpack supports. The core's shared-package versions come from @jupyterlab/core-meta
// (the snapshot of JupyterLab's own package.json), as the wrapper would use.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const here = path.resolve(__dirname, '..');
const meta = require.resolve('@jupyterlab/core-meta/core.package.json', { paths: [here] });
const core = fs.mkdtempSync(path.join(os.tmpdir(), 'ls-core-'));
fs.copyFileSync(meta, path.join(core, 'package.json'));
const builder = require.resolve('@jupyterlab/builder/lib/build-labextension.js', { paths: [here] });
const args = [builder, '--core-path', core];
if (process.argv.includes('--development')) {
  args.push('--development');
}
args.push(here);
const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
fs.rmSync(core, { recursive: true, force: true });
process.exit(run.status ?? 1);
