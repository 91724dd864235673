#include "net/log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace herd::net {
namespace {

constexpr std::size_t buffer_max = 64 * 1024;

void append_time(std::string& out) {
    const auto now = std::chrono::system_clock::now();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    out.append(buf, n);
    std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(us % 1'000'000));
    out += buf;
}

}  // namespace

server_log::server_log(const std::filesystem::path& file) : path_(file) {
    std::error_code ec;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    file_ = std::fopen(file.c_str(), "ab");
    if (!file_) fail("cannot open");
}

server_log::~server_log() {
    flush();
    if (file_) std::fclose(file_);
}

void server_log::write(std::string_view kind, std::string_view text) {
    if (!file_) return;
    append_time(buffer_);
    buffer_ += ' ';
    buffer_ += kind;
    buffer_ += ' ';
    for (char c : text) {
        if (c == '\n')
            buffer_ += "\\n";
        else if (c == '\r')
            buffer_ += "\\r";
        else
            buffer_ += c;
    }
    buffer_ += '\n';
    if (buffer_.size() > buffer_max) flush();
}

void server_log::flush() {
    if (!file_ || buffer_.empty()) return;
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() || std::fflush(file_) != 0)
        fail("cannot write");
    buffer_.clear();
}

void server_log::fail(const char* what) {
    if (!failed_)
        std::fprintf(stderr, "herd: %s log %s (%s); the server keeps serving without it\n", what,
                     path_.c_str(), std::strerror(errno));
    failed_ = true;
    if (file_) std::fclose(file_);
    file_ = nullptr;
    buffer_.clear();
}

}  // namespace herd::net
