#pragma once

// `secrethub agent --role ROLE [--ttl TTL] [--on-rotate signal:HUP|restart|none]
//                  [--grace SECONDS] [--template FILE --out FILE] [-- COMMAND ARGS…]`

namespace secrethub::agent {

/// Runs the agent command (argv[1] == "agent"); returns the process exit
/// code: the child's (0 in template-only mode after SIGINT/SIGTERM), or 1
/// when no credentials could be had or the template could not be written,
/// 2 for usage.
int run_command(int argc, char** argv);

}  // namespace secrethub::agent
