// data/places.tsv compiled into the binary with the assembler's .incbin, so that herd runs from
// any directory with no data files around, and the build stays fast (no 7 MB array literal for
// the compiler to chew). HERD_PLACES_TSV is its absolute path (places/CMakeLists.txt).
#include "places/data.hpp"

#ifndef HERD_PLACES_TSV
#error "HERD_PLACES_TSV must name data/places.tsv"
#endif

// clang-format off
asm(".pushsection .rodata.herd_places_tsv, \"a\", @progbits\n"
    ".global herd_places_tsv_begin\n"
    ".hidden herd_places_tsv_begin\n"
    "herd_places_tsv_begin:\n"
    ".incbin \"" HERD_PLACES_TSV "\"\n"
    ".global herd_places_tsv_end\n"
    ".hidden herd_places_tsv_end\n"
    "herd_places_tsv_end:\n"
    ".popsection\n");
// clang-format on

extern "C" const char herd_places_tsv_begin[];
extern "C" const char herd_places_tsv_end[];

namespace herd::places {

std::string_view embedded_text() {
    return {herd_places_tsv_begin,
            static_cast<std::size_t>(herd_places_tsv_end - herd_places_tsv_begin)};
}

}  // namespace herd::places
