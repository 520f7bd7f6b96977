#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "core/config/config_error.hpp"
#include "core/config/dotenv.hpp"

using namespace routemq;
using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("parse_dotenv reads the usual forms") {
  const auto parsed = parse_dotenv(
      "# a comment\n"
      "\n"
      "PLAIN=value\n"
      "export EXPORTED=1\n"
      "  SPACED = padded  \n"
      "DQ=\"two words\\nnext\"\n"
      "SQ='literal \\n $HOME'\n"
      "WITH_COMMENT=abc # trailing\n"
      "HASH=a#b\n"
      "EMPTY=\n"
      "URL=redis://u:p@h:1/0\r\n",
      ".env");
  CHECK(parsed == Pairs{{"PLAIN", "value"},
                        {"EXPORTED", "1"},
                        {"SPACED", "padded"},
                        {"DQ", "two words\nnext"},
                        {"SQ", "literal \\n $HOME"},
                        {"WITH_COMMENT", "abc"},
                        {"HASH", "a#b"},
                        {"EMPTY", ""},
                        {"URL", "redis://u:p@h:1/0"}});
}

TEST_CASE("parse_dotenv errors name the file and line") {
  CHECK_THROWS_MATCHES(parse_dotenv("OK=1\nNOEQUALS\n", "my.env"), ConfigError,
                       Catch::Matchers::Message("my.env:2: expected KEY=VALUE (got 'NOEQUALS')"));
  CHECK_THROWS_WITH(parse_dotenv("1BAD=x", ".env"), Catch::Contains(".env:1: '1BAD' is not a valid variable name"));
  CHECK_THROWS_WITH(parse_dotenv("A=\"open", ".env"), Catch::Contains("unterminated double quote"));
  CHECK_THROWS_WITH(parse_dotenv("A='open", ".env"), Catch::Contains("unterminated single quote"));
  CHECK_THROWS_WITH(parse_dotenv("A=\"x\" junk", ".env"), Catch::Contains("after the closing quote"));
}

TEST_CASE("load_dotenv sets unset variables and never overrides the real environment") {
  const std::string path = "/tmp/routemq_dotenv_test_" + std::to_string(::getpid()) + ".env";
  {
    std::ofstream out(path);
    out << "ROUTEMQ_DOTENV_NEW=from-file\nROUTEMQ_DOTENV_SET=from-file\n";
  }
  ::setenv("ROUTEMQ_DOTENV_SET", "from-process", 1);
  ::unsetenv("ROUTEMQ_DOTENV_NEW");
  CHECK(load_dotenv(path) == 1);
  CHECK(std::string(std::getenv("ROUTEMQ_DOTENV_NEW")) == "from-file");
  CHECK(std::string(std::getenv("ROUTEMQ_DOTENV_SET")) == "from-process");
  CHECK(load_dotenv("/nonexistent/.env") == 0);
  std::remove(path.c_str());
}
