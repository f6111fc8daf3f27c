// The `secrethub` binary. Subcommands (server, CLI, agent) arrive with their
// issues; this is the only code the tests do not link.

#include <cstdio>
#include <cstring>

namespace {

constexpr const char* version = "0.1.0";

int usage(std::FILE* out) {
  std::fprintf(out,
               "usage: secrethub <command>\n"
               "\n"
               "commands:\n"
               "  version    print the version\n"
               "\n"
               "The lease engine is embeddable today (include/secrethub/service.hpp);\n"
               "the server, CLI and agent subcommands are not built yet.\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    return usage(stderr);
  }
  if (std::strcmp(argv[1], "version") == 0 || std::strcmp(argv[1], "--version") == 0) {
    std::printf("secrethub %s\n", version);
    return 0;
  }
  if (std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    return usage(stdout);
  }
  std::fprintf(stderr, "secrethub: unknown command '%s'\n\n", argv[1]);
  return usage(stderr);
}
