#include "core/json_reader.hpp"

#include <cmath>
#include <sstream>

namespace herd::core {

void json_reader::fail(const std::string& problem) const {
    throw config_error(file_ + ": " + path_ + ": " + problem);
}

const json_reader& json_reader::object(std::initializer_list<const char*> allowed,
                                       const std::vector<const char*>& more) const {
    if (!j_.is_object()) fail("expected an object");
    for (const auto& [key, v] : j_.items()) {
        bool ok = false;
        for (const char* a : allowed) ok = ok || key == a;
        for (const char* a : more) ok = ok || key == a;
        if (!ok) (*this)[key.c_str()].fail("unknown field");
    }
    return *this;
}

json_reader json_reader::operator[](const char* key) const {
    return json_reader(j_.at(key), path_ + "." + key, file_);
}

json_reader json_reader::at(std::size_t i) const {
    return json_reader(j_.at(i), path_ + "[" + std::to_string(i) + "]", file_);
}

std::size_t json_reader::array(std::size_t min) const {
    if (!j_.is_array()) fail("expected an array");
    if (j_.size() < min) fail("expected at least " + std::to_string(min) + " element(s)");
    return j_.size();
}

double json_reader::number(double min, double max) const {
    if (!j_.is_number()) fail("expected a number");
    const double v = j_.get<double>();
    if (!std::isfinite(v) || v < min || v > max) {
        std::ostringstream os;
        os << "expected a number in [" << min << ", " << max << "]";
        fail(os.str());
    }
    return v;
}

std::uint64_t json_reader::integer(std::uint64_t min, std::uint64_t max) const {
    if (!j_.is_number_integer() || (!j_.is_number_unsigned() && j_.get<std::int64_t>() < 0))
        fail("expected a non-negative integer");
    const auto v = j_.get<std::uint64_t>();
    if (v < min || v > max)
        fail("expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return v;
}

bool json_reader::boolean() const {
    if (!j_.is_boolean()) fail("expected true or false");
    return j_.get<bool>();
}

std::string json_reader::string() const {
    if (!j_.is_string()) fail("expected a string");
    return j_.get<std::string>();
}

nlohmann::json parse_json(std::string_view text, const std::string& file) {
    try {
        return nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error& e) {
        throw config_error(file + ": $: malformed JSON (" + std::string(e.what()) + ")");
    }
}

}  // namespace herd::core
