// The protocol conformance suite (test/conformance/protocol.case.ts) against the core hosts in one process.

import { runProtocolConformance } from '../conformance/protocol.case.ts';
import { inProcessTarget } from '../conformance/in-process-target.ts';

runProtocolConformance('in-process hosts', inProcessTarget);
