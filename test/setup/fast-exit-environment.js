/**
 * Jest's node environment, in workers that exit as soon as Jest is done with them.
 *
 * A worker ends when its event loop drains, and Node then tears down its heap (300-530 MB after
 * the e2e files) before the process is gone: 330-440 ms measured from the 'exit' event, and now
 * and then past Jest's fixed 500 ms, when Jest kills it and warns that "a worker process has
 * failed to exit gracefully". Calling process.exit from the 'exit' event leaves the memory to the
 * kernel instead: 110-220 ms. The listener is added once per process (this module is required
 * in the worker's own context, not a test's).
 */
const { TestEnvironment } = require('jest-environment-node');

// Only in a worker (a forked child, with an IPC channel). Run in band, as the fault suite is, the
// environment lives in Jest's own process, whose exit code Jest sets from an 'exit' listener of
// its own: exiting first, with the code the event carries (0), would report a failed run as a
// passed one.
const inWorker = typeof process.send === 'function';
if (
  inWorker &&
  !process.listeners('exit').some((listener) => listener.name === 'exitWithoutTeardown')
) {
  process.on('exit', function exitWithoutTeardown(code) {
    process.exit(code); // already exiting: straight to the system call, same code
  });
}

module.exports = TestEnvironment;
