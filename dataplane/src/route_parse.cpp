// Route text <-> Route (route_table.hpp). No DPDK: unit-tested without EAL.
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/route_table.hpp"

namespace qc::dataplane {

namespace {

constexpr std::string_view kWhat = "route";

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) {
            ++i;
        }
        if (i > start) {
            words.push_back(text.substr(start, i - start));
        }
    }
    return words;
}

// A decimal number with 1..max_digits digits and nothing else, <= max.
std::optional<std::uint32_t> parse_decimal(std::string_view s, std::size_t max_digits,
                                           std::uint32_t max) {
    if (s.empty() || s.size() > max_digits) {
        return std::nullopt;
    }
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > max) {
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
    std::uint32_t addr = 0;
    for (int octet = 0; octet < 4; ++octet) {
        const std::size_t dot = octet < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) {
            return std::nullopt;
        }
        const auto v = parse_decimal(s.substr(0, dot), 3, 255);
        if (!v) {
            return std::nullopt;
        }
        addr = (addr << 8) | *v;
        s = octet < 3 ? s.substr(dot + 1) : std::string_view{};
    }
    return addr;
}

std::uint32_t mask_of(std::uint8_t depth) {
    return depth == 0 ? 0 : ~std::uint32_t{0} << (32 - depth);
}

RoutePrefix parse_prefix_token(std::string_view input, std::string_view token) {
    const std::size_t slash = token.find('/');
    if (slash == std::string_view::npos) {
        throw core::ParseError(kWhat, input, token, "expected PREFIX/LEN, e.g. 10.1.0.0/16");
    }
    const auto addr = parse_ipv4(token.substr(0, slash));
    if (!addr) {
        throw core::ParseError(kWhat, input, token, "not an IPv4 address");
    }
    const auto depth = parse_decimal(token.substr(slash + 1), 2, 32);
    if (!depth) {
        throw core::ParseError(kWhat, input, token, "prefix length must be a number in 0..32");
    }
    const auto d = static_cast<std::uint8_t>(*depth);
    if ((*addr & ~mask_of(d)) != 0) {
        throw core::ParseError(kWhat, input, token,
                               "host bits set beyond /" + std::to_string(d) + " (did you mean " +
                                   format_ipv4(*addr & mask_of(d)) + "/" + std::to_string(d) +
                                   "?)");
    }
    return RoutePrefix{*addr, d};
}

std::optional<MacAddress> parse_mac(std::string_view s) {
    MacAddress mac{};
    if (s.size() != 17) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < 6; ++i) {
        const std::string_view pair = s.substr(i * 3, 2);
        if (i < 5 && s[i * 3 + 2] != ':') {
            return std::nullopt;
        }
        const auto [end, ec] = std::from_chars(pair.data(), pair.data() + 2, mac[i], 16);
        if (ec != std::errc{} || end != pair.data() + 2) {
            return std::nullopt;
        }
    }
    return mac;
}

}  // namespace

std::string format_ipv4(std::uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 0xff) + "." +
           std::to_string((a >> 8) & 0xff) + "." + std::to_string(a & 0xff);
}

RoutePrefix parse_route_prefix(std::string_view text) {
    const std::vector<std::string_view> words = split_words(text);
    if (words.empty()) {
        throw core::ParseError(kWhat, text, text, "empty, expected PREFIX/LEN");
    }
    if (words.size() > 1) {
        throw core::ParseError(kWhat, text, words[1], "unexpected after PREFIX/LEN");
    }
    return parse_prefix_token(text, words[0]);
}

Route parse_route(std::string_view text) {
    const std::vector<std::string_view> words = split_words(text);
    if (words.empty()) {
        throw core::ParseError(kWhat, text, text,
                               "empty, expected \"PREFIX/LEN port N [mac MAC]\"");
    }
    const RoutePrefix p = parse_prefix_token(text, words[0]);
    Route r{p.prefix, p.depth, NextHop{}};
    bool have_port = false;
    bool have_mac = false;
    for (std::size_t i = 1; i < words.size(); i += 2) {
        const std::string_view key = words[i];
        const bool is_port = key == "port";
        if (!is_port && key != "mac") {
            throw core::ParseError(kWhat, text, key, "unknown keyword, expected port or mac");
        }
        if ((is_port && have_port) || (!is_port && have_mac)) {
            throw core::ParseError(kWhat, text, key, "given twice");
        }
        if (i + 1 >= words.size()) {
            throw core::ParseError(kWhat, text, key, "needs a value");
        }
        const std::string_view value = words[i + 1];
        if (is_port) {
            const auto port = parse_decimal(value, 5, 65535);
            if (!port) {
                throw core::ParseError(kWhat, text, value, "port must be a number in 0..65535");
            }
            r.next_hop.port = static_cast<std::uint16_t>(*port);
            have_port = true;
        } else {
            const auto mac = parse_mac(value);
            if (!mac) {
                throw core::ParseError(kWhat, text, value,
                                       "not a MAC address (xx:xx:xx:xx:xx:xx, hex)");
            }
            r.next_hop.dst_mac = *mac;
            have_mac = true;
        }
    }
    if (!have_port) {
        throw core::ParseError(kWhat, text, words.back(), "no \"port N\" given");
    }
    return r;
}

std::string to_string(const Route& r) {
    std::string s = format_ipv4(r.prefix) + "/" + std::to_string(r.depth) + " port " +
                    std::to_string(r.next_hop.port);
    if (r.next_hop.dst_mac) {
        const MacAddress& m = *r.next_hop.dst_mac;
        char buf[18];
        std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                      m[4], m[5]);
        s += " mac ";
        s += buf;
    }
    return s;
}

}  // namespace qc::dataplane
