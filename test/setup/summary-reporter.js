/**
 * The run's verdict as one plain line, "N passed, N failed, N skipped", which CI reads (Jest's
 * own summary is not in a form it recognises). The global teardown prints it, because it runs
 * after every reporter, so the line is the last of the run.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    globalThis.__HYDRACORE_VERDICT__ = `${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`;
  }
}
module.exports = SummaryReporter;
