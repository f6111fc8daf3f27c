#pragma once

// `secrethub agent --role ROLE [--ttl TTL] [--on-rotate signal:HUP] -- COMMAND ARGS…`

namespace secrethub::agent {

/// Runs the agent command (argv[1] == "agent"); returns the process exit
/// code: the child's, or 1 when no credentials could be had, 2 for usage.
int run_command(int argc, char** argv);

}  // namespace secrethub::agent
