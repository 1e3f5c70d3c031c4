const { readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/**
 * The run's verdict as one plain line, "N passed, N failed, N skipped", which CI reads (Jest's
 * own summary is not in a form it recognises). The global teardown prints it, because it runs
 * after every reporter, so the line is the last of the run.
 *
 * `npm test` runs two Jest runs in a row (the suite, then the fault suite): the first leaves
 * its counts in a file named after the shell that runs both (`carry: 'out'`), and the second
 * (`carry: 'in'`) adds them, so its line is the verdict of the whole command.
 */
class SummaryReporter {
  constructor(_globalConfig, options = {}) {
    this.carry = options.carry;
    this.file = join(tmpdir(), `hydracore-verdict-${process.ppid}.json`);
  }

  onRunComplete(_contexts, results) {
    const counts = [
      results.numPassedTests,
      results.numFailedTests,
      results.numPendingTests + results.numTodoTests,
    ];
    if (this.carry === 'in') {
      try {
        // Left by a run long gone from a shell whose pid came round again: not ours.
        if (Date.now() - statSync(this.file).mtimeMs > 30 * 60_000) throw new Error('stale');
        const before = JSON.parse(readFileSync(this.file, 'utf8'));
        counts.forEach((_, i) => (counts[i] += before[i]));
        rmSync(this.file);
      } catch {
        // run on its own (npm run test:faults): its counts alone
        rmSync(this.file, { force: true });
      }
    } else if (this.carry === 'out') {
      writeFileSync(this.file, JSON.stringify(counts));
    }
    const [passed, failed, skipped] = counts;
    globalThis.__HYDRACORE_VERDICT__ = `${passed} passed, ${failed} failed, ${skipped} skipped`;
  }
}
module.exports = SummaryReporter;
