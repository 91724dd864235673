#pragma once
// Reading a JSON config with the JSON path of every value, so that a bad file is refused with one
// line naming the file, the path and the problem: `herd.json: $.faults[2].at_ms: expected a
// number`. Used by the herd config (core/config) and the scenario loader (sim/scenario).

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace herd::core {

// `file: $.path: problem`. The CLI prints it and exits 2.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class json_reader {
public:
    json_reader(const nlohmann::json& j, std::string path, const std::string& file)
        : j_(j), path_(std::move(path)), file_(file) {}

    // Throws config_error for this value.
    [[noreturn]] void fail(const std::string& problem) const;

    const nlohmann::json& value() const { return j_; }
    const std::string& path() const { return path_; }
    const std::string& file() const { return file_; }

    // Checks that this is an object whose keys are all in `allowed` or `more`.
    const json_reader& object(std::initializer_list<const char*> allowed,
                              const std::vector<const char*>& more = {}) const;

    bool has(const char* key) const { return j_.is_object() && j_.contains(key); }
    json_reader operator[](const char* key) const;
    json_reader at(std::size_t i) const;

    // The checked values.
    std::size_t array(std::size_t min = 0) const;  // the array's size
    double number(double min, double max) const;
    std::uint64_t integer(std::uint64_t min, std::uint64_t max) const;
    bool boolean() const;
    std::string string() const;

private:
    const nlohmann::json& j_;
    std::string path_;
    const std::string& file_;
};

// Parses `text` as JSON; malformed JSON is a config_error for `$` naming the byte. (Reading the
// file is the host's business: the core does no I/O.)
nlohmann::json parse_json(std::string_view text, const std::string& file);

}  // namespace herd::core
