# Debian ships CAF 0.17.6 without CMake or pkg-config files: find it by hand.
find_package(Threads REQUIRED)
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(caf_core_dep INTERFACE)
target_include_directories(caf_core_dep SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf_core_dep INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)

find_package(PostgreSQL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)

# cpp-httplib 0.11.4 on Debian is a split build: its pkg-config cflags must be
# used or the class layout differs from the shared library's (ODR/ABI mismatch).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# toml++ 3.3 on Debian is likewise a compiled library: its pkg-config flags
# (TOML_HEADER_ONLY=0, TOML_SHARED_LIB=1) and -ltomlplusplus go together.
pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
find_package(spdlog REQUIRED)
# The Redis engine uses hiredis 0.14 for the protocol only (it owns the socket
# and TLS itself: Debian's 0.14 has no TLS).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
