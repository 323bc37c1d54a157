// Test helpers shared by every integration test (one module per concern; this file re-exports them).
export { repoRoot, sampleBundle, sampleRootfs, tsrunBin, runtimeBin, runtimeUnderTest, runtimeName, testingTsrun, rootfsReady } from './runtime.js';
export { context, rootFor, uniqueId, type TestContext } from './context.js';
export { rt, readOut, readErr, describe, parseState, stateOf, type RtOptions, type RtResult } from './rt.js';
export { makeBundle, baseConfig, writeRawConfig, type Bundle, type BundleOptions, type Config } from './bundle.js';
export { snapshotHost, assertNoLeaks, findLeaks, type HostSnapshot, type Leaks } from './leaks.js';
export { testProcesses, listProcesses, cgroupDirsNamed } from './procscan.js';
export { waitUntil } from './wait.js';
