# Warnings and sanitizers as INTERFACE targets every project target links.
add_library(secrethub_warnings INTERFACE)
target_compile_options(secrethub_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(SECRETHUB_WERROR)
  target_compile_options(secrethub_warnings INTERFACE -Werror)
endif()

add_library(secrethub_sanitizers INTERFACE)
if(SECRETHUB_SANITIZE)
  # e.g. -DSECRETHUB_SANITIZE=address,undefined
  target_compile_options(secrethub_sanitizers INTERFACE
    -fsanitize=${SECRETHUB_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(secrethub_sanitizers INTERFACE -fsanitize=${SECRETHUB_SANITIZE})
endif()
