// The message of the exception fn() throws, or "(no error)": tests assert on
// what an error says (the bad input, the flag, the reason).
#pragma once

#include <exception>
#include <string>

namespace qc::test {

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace qc::test
