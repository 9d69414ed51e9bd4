// Error types shared by every quietcore library.
//
// Parsing and set-up run on housekeeping threads and report failures by
// exception; isolated workers never call anything that throws.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace qc::core {

// Any quietcore failure that is not a plain errno (those use std::system_error).
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Malformed input. The message names what was being parsed and the bad token,
// e.g. "cpu list \"1-\": bad token \"1-\": range has no end".
class ParseError : public Error {
  public:
    ParseError(std::string_view what_input, std::string_view input, std::string_view token,
               std::string_view reason)
        : Error(std::string(what_input) + " \"" + std::string(input) + "\": bad token \"" +
                std::string(token) + "\": " + std::string(reason)),
          input_(input),
          token_(token) {}

    const std::string& input() const noexcept { return input_; }
    const std::string& token() const noexcept { return token_; }

  private:
    std::string input_;
    std::string token_;
};

}  // namespace qc::core
