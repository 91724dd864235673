#pragma once
// One log file per server: every client line in and reply out, peer messages in and out,
// connections opened and dropped, provider errors. Each line: an ISO 8601 UTC time with
// microseconds, a kind, and the text with '\n' written as "\n" (one event, one line). No secrets
// reach it: the hosts log protocol lines and causes, never keys.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace herd::net {

class server_log {
public:
    // Opens (appends to) `file`, creating its folder. A log that cannot be opened or written is
    // reported once on stderr; the server keeps serving and the log stays silent.
    explicit server_log(const std::filesystem::path& file);
    // A log that writes nowhere.
    server_log() = default;
    ~server_log();
    server_log(const server_log&) = delete;
    server_log& operator=(const server_log&) = delete;

    // Buffers one line; written by flush() or when the buffer passes 1 MiB. No system call and,
    // once the buffer has grown, no allocation per line.
    void write(std::string_view kind, std::string_view text);
    // The same as write(kind, "conn <conn> <text>") and write(kind, "<a> <b>"), without
    // building the text first.
    void write_conn(std::string_view kind, std::uint64_t conn, std::string_view text);
    void write_pair(std::string_view kind, std::string_view a, std::string_view b);
    void flush();
    // Whether lines are written at all (callers skip building them when not).
    bool enabled() const { return file_ != nullptr; }
    const std::filesystem::path& path() const { return path_; }

private:
    void fail(const char* what);
    // Appends the time and the kind; escapes and appends text; ends the line.
    void begin(std::string_view kind);
    void append_escaped(std::string_view text);
    void end();

    std::filesystem::path path_;
    std::FILE* file_ = nullptr;
    std::string buffer_;
    bool failed_ = false;
    // The time formatted to the second ("2024-05-01T12:00:00"), for the second it names.
    long long second_ = -1;
    char second_text_[24] = {};
    std::size_t second_bytes_ = 0;
};

}  // namespace herd::net
