#pragma once

// The `secrethub` client commands: creds, lease, role, token, status. They
// talk to a running server over its REST API (see README, "CLI").
//
// Exit codes: 0 ok; 1 the server said no (its errors printed to stderr, one
// per line, as "error: …") or could not be reached; 2 usage errors.

namespace secrethub::cli {

/// True when `command` (argv[1]) is one of the client commands run() takes.
bool is_client_command(const char* command);

/// Runs `secrethub <command> …` with the whole argv (argv[0] the program).
/// Never throws.
int run(int argc, char** argv);

}  // namespace secrethub::cli
