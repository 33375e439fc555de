// Loaded into every test process (node --import). With --test-force-exit a test process calls
// process.exit() right after its last test; its report goes to the runner through a pipe, and
// Node writes pipes asynchronously on Linux, so whatever was still queued was lost (3,000 tests
// with long names: 2,998 reported, exit 0). Blocking writes leave nothing queued at exit.
if (process.env.NODE_TEST_CONTEXT === 'child-v8') {
  for (const s of [process.stdout, process.stderr]) s._handle?.setBlocking?.(true);
}
