# Tests of the `google` places provider (net/google_places.hpp) against a local HTTP(S) server
# (tests/net/support/http_test_server.hpp) with recorded-format fixtures (tests/net/fixtures/).
add_executable(test_google_places
  ${CMAKE_CURRENT_LIST_DIR}/test_google_places.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support/http_test_server.cpp
)
target_link_libraries(test_google_places PRIVATE herd::net herd_catch_main herd_options)
target_compile_definitions(test_google_places PRIVATE
  HERD_NET_FIXTURES="${CMAKE_CURRENT_LIST_DIR}/fixtures")
catch_discover_tests(test_google_places)
