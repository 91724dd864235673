# places_bench: build time of the embedded places index and query latency against a brute-force
# scan (docs/places.md has the figures). Not a test: run build-dir/bench/places_bench.
add_executable(places_bench ${CMAKE_CURRENT_LIST_DIR}/places_bench.cpp)
target_link_libraries(places_bench PRIVATE herd::places herd_options)
