#pragma once
// `herd sim` and `herd check`: thin wrappers over sim::run that print and write the results.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace herd::cli {

// Runs one scenario and writes summary.json, timeline.jsonl and updates.csv to `out_dir`
// (default runs/<name>-seed<N>). Returns 0 when every expectation holds, 1 when one fails,
// 2 for an invalid scenario.
int run_sim(const std::filesystem::path& scenario_file, std::optional<std::uint64_t> seed,
            std::optional<std::filesystem::path> out_dir, std::ostream& out, std::ostream& err);

// Runs every scenario with its own seed; one PASS/FAIL line each. 0 when all pass, 1 when one
// fails, 2 when one is invalid.
int run_check(const std::vector<std::filesystem::path>& files, std::ostream& out, std::ostream& err);

}  // namespace herd::cli
