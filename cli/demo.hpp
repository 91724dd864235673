#pragma once
#include <filesystem>
#include <iosfwd>

namespace herd::cli {

// Runs the seed herd in memory (core nodes wired by queues, no sockets) through a short script,
// prints the transcript to `out` and writes it to `dir`/report.txt. Returns the exit code.
int run_demo(const std::filesystem::path& dir, std::ostream& out);

}  // namespace herd::cli
