#include "net/log.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>

namespace herd::net {
namespace {

constexpr std::size_t buffer_max = 1024 * 1024;

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

void server_log::begin(std::string_view kind) {
    const auto now = std::chrono::system_clock::now();
    const long long us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    const long long secs = us / 1'000'000;
    if (secs != second_) {
        // Formatted once a second.
        const auto t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        second_bytes_ = std::strftime(second_text_, sizeof second_text_, "%Y-%m-%dT%H:%M:%S", &tm);
        second_ = secs;
    }
    buffer_.append(second_text_, second_bytes_);
    char frac[9] = {'.', '0', '0', '0', '0', '0', '0', 'Z', ' '};  // ".uuuuuuZ "
    for (long long u = us % 1'000'000, i = 6; i >= 1; --i, u /= 10) frac[i] = static_cast<char>('0' + u % 10);
    buffer_.append(frac, sizeof frac);
    buffer_ += kind;
    buffer_ += ' ';
}

void server_log::append_escaped(std::string_view text) {
    std::size_t from = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\n' && c != '\r') continue;
        buffer_.append(text.data() + from, i - from);
        buffer_ += c == '\n' ? "\\n" : "\\r";
        from = i + 1;
    }
    buffer_.append(text.data() + from, text.size() - from);
}

void server_log::end() {
    buffer_ += '\n';
    if (buffer_.size() > buffer_max) flush();
}

void server_log::write(std::string_view kind, std::string_view text) {
    if (!file_) return;
    begin(kind);
    append_escaped(text);
    end();
}

void server_log::write_conn(std::string_view kind, std::uint64_t conn, std::string_view text) {
    if (!file_) return;
    begin(kind);
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, conn);
    buffer_ += "conn ";
    buffer_.append(digits, r.ptr);
    buffer_ += ' ';
    append_escaped(text);
    end();
}

void server_log::write_pair(std::string_view kind, std::string_view a, std::string_view b) {
    if (!file_) return;
    begin(kind);
    append_escaped(a);
    buffer_ += ' ';
    append_escaped(b);
    end();
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
