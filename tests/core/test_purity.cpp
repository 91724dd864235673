// herd_core stays pure: no Boost, no Asio, no clock, no randomness (DESIGN §1).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
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
    // Calls of the C clock and random functions (parse_time( is fine: no word boundary).
    const std::regex calls(R"(\b(time|clock|clock_gettime|gettimeofday|rand|srand|random)\s*\()");
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
        INFO(e.path().filename().string() << " calls a clock or random function");
        CHECK_FALSE(std::regex_search(text, calls));
    }
    CHECK(files >= 8);
}
