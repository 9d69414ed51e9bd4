#include "checks_boot/kernel_cmdline.hpp"

namespace qc::monitor::boot {

namespace {

// The kernel's isspace() on the command line (its ctype also counts 0xA0).
bool is_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || static_cast<unsigned char>(c) == 0xA0;
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char dash_to_underscore(char c) {
    return c == '-' ? '_' : c;
}

std::size_t skip_spaces(std::string_view text, std::size_t pos) {
    while (pos < text.size() && is_space(text[pos])) {
        ++pos;
    }
    return pos;
}

// One step of the kernel's next_arg(): the parameter starting at `pos`
// (not a space); `pos` moves past it and the spaces after it.
KernelParam next_param(std::string_view text, std::size_t& pos) {
    const std::size_t begin = pos;
    bool in_quote = false;
    bool quoted = false;
    if (text[pos] == '"') {
        ++pos;
        in_quote = true;
        quoted = true;
    }
    const std::string_view args = text.substr(pos);
    std::size_t i = 0;
    std::size_t equals = 0;  // 0: none, as in the kernel (a leading '=' does not count)
    for (; i < args.size(); ++i) {
        if (is_space(args[i]) && !in_quote) {
            break;
        }
        if (equals == 0 && args[i] == '=') {
            equals = i;
        }
        if (args[i] == '"') {
            in_quote = !in_quote;
        }
    }
    // The kernel cuts strings by writing NULs; `end` is where the token stops
    // being read, and a closing quote is cut at most once.
    std::size_t end = i;
    bool cut_closing_quote = false;
    KernelParam param;
    if (equals == 0) {
        if (quoted && i > 0 && args[i - 1] == '"') {
            end = i - 1;
        }
        param.name = std::string(args.substr(0, end));
    } else {
        param.name = std::string(args.substr(0, equals));
        std::size_t value_begin = equals + 1;
        if (value_begin < i && args[value_begin] == '"') {
            ++value_begin;
            if (args[i - 1] == '"' && i - 1 >= value_begin) {
                end = i - 1;
                cut_closing_quote = true;
            }
        }
        if (!cut_closing_quote && quoted && i > 0 && args[i - 1] == '"') {
            end = i - 1;
        }
        param.value = std::string(args.substr(value_begin, end - std::min(end, value_begin)));
    }
    // A NUL inside (never on a real command line) ends the C string there.
    if (const auto nul = param.name.find('\0'); nul != std::string::npos) {
        param.name.resize(nul);
    }
    pos += i;
    param.text = std::string(text.substr(begin, pos - begin));
    pos = skip_spaces(text, pos);
    return param;
}

}  // namespace

bool param_name_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (dash_to_underscore(a[i]) != dash_to_underscore(b[i])) {
            return false;
        }
    }
    return true;
}

std::vector<const KernelParam*> KernelCmdline::all(std::string_view name) const {
    std::vector<const KernelParam*> found;
    for (const KernelParam& p : params) {
        if (param_name_equal(p.name, name)) {
            found.push_back(&p);
        }
    }
    return found;
}

KernelCmdline parse_kernel_cmdline(std::string_view text) {
    KernelCmdline cmdline;
    std::size_t pos = skip_spaces(text, 0);
    while (pos < text.size()) {
        KernelParam param = next_param(text, pos);
        if (!param.value && param.name == "--") {
            while (pos < text.size()) {
                cmdline.init_args.push_back(next_param(text, pos).text);
            }
            break;
        }
        cmdline.params.push_back(std::move(param));
    }
    return cmdline;
}

std::string IsolcpusValue::flags_text() const {
    std::string out;
    const auto add = [&out](bool on, std::string_view flag) {
        if (on) {
            if (!out.empty()) {
                out += ',';
            }
            out += flag;
        }
    };
    add(nohz, "nohz");
    add(domain, "domain");
    add(managed_irq, "managed_irq");
    return out;
}

IsolcpusValue parse_isolcpus(std::string_view value) {
    IsolcpusValue out;
    std::size_t pos = 0;
    const auto at = [&](std::size_t i) { return i < value.size() ? value[i] : '\0'; };
    const auto takes = [&](std::string_view flag) {
        if (value.substr(pos, flag.size()) == flag) {
            pos += flag.size();
            return true;
        }
        return false;
    };
    while (is_alpha(at(pos))) {
        if (takes("nohz,")) {
            out.nohz = true;
            continue;
        }
        if (takes("domain,")) {
            out.domain = true;
            continue;
        }
        if (takes("managed_irq,")) {
            out.managed_irq = true;
            continue;
        }
        const std::size_t begin = pos;
        bool illegal = false;
        while (at(pos) != '\0' && at(pos) != ',') {
            if (!is_alpha(at(pos)) && at(pos) != '_') {
                illegal = true;
            }
            ++pos;
        }
        const std::string flag(value.substr(begin, pos - begin));
        if (illegal) {
            out.invalid_flag = flag;
            break;
        }
        out.unknown_flags.push_back(flag);
        if (pos < value.size()) {
            ++pos;  // the comma
        }
    }
    out.cpus = std::string(value.substr(std::min(pos, value.size())));
    return out;
}

}  // namespace qc::monitor::boot
