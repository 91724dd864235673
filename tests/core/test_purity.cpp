// herd_core stays pure: no Boost, no Asio, no clock, no randomness (DESIGN §1).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <cctype>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Whether `text` calls `name`: the name not preceded by an identifier character (so parse_time
// does not count as time) and followed, after optional spaces, by '('.
bool calls_function(const std::string& text, const std::string& name) {
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
        if (at > 0 && ident(text[at - 1])) continue;
        auto end = at + name.size();
        while (end < text.size() && text[end] == ' ') ++end;
        if (end < text.size() && text[end] == '(') return true;
    }
    return false;
}

}  // namespace

TEST_CASE("herd_core links no Boost library", "[core]") {
    const std::string links = slurp(HERD_CORE_LINKS_FILE);
    REQUIRE_FALSE(links.empty());
    INFO("herd_core links: " << links);
    CHECK(links.find("oost") == std::string::npos);
    CHECK(links.find("asio") == std::string::npos);
    CHECK(links.find("nlohmann_json") != std::string::npos);  // the file is what we think it is
}

TEST_CASE("no file in core includes Asio or Boost, reads a clock or draws randomness", "[core]") {
    const char* forbidden[] = {"boost/",   "asio",          "<chrono>",       "<ctime>",
                               "<random>", "<thread>",      "random_device",  "<sys/socket.h>",
                               "<fstream>", "<iostream>",   "<unistd.h>"};
    const char* calls[] = {"time", "clock", "clock_gettime", "gettimeofday", "rand", "srand",
                           "random"};
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(HERD_SOURCE_DIR) / "core")) {
        const auto ext = e.path().extension();
        if (ext != ".hpp" && ext != ".cpp") continue;
        ++files;
        const std::string text = slurp(e.path());
        for (const char* f : forbidden) {
            INFO(e.path().filename().string() << " contains " << f);
            CHECK(text.find(f) == std::string::npos);
        }
        for (const char* c : calls) {
            INFO(e.path().filename().string() << " calls " << c << "()");
            CHECK_FALSE(calls_function(text, c));
        }
    }
    CHECK(files >= 8);
}
