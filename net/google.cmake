# The `google` places provider (net/google_places.hpp): Nearby Search over HTTPS with Beast.
target_sources(herd_net PRIVATE ${CMAKE_CURRENT_LIST_DIR}/google_places.cpp)
