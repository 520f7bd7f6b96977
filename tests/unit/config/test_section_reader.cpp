#include <catch2/catch.hpp>

#include "core/config/config_error.hpp"
#include "core/config/section_reader.hpp"

using namespace routemq;
using Vars = std::map<std::string, std::string>;

namespace {
ConfigNode parse(const std::string& yaml) { return ConfigNode(YAML::Load(yaml), "opts", Location{"f.yaml", 0, 0}); }
}  // namespace

TEST_CASE("SectionReader reads typed values with defaults") {
  const Environment env(Vars{{"LIMIT", "7"}});
  SectionReader r(parse("name: x\nratio: 0.5\nflag: on\nlist: [a, b]\n"), env);
  CHECK(r.string("name", "d") == "x");
  CHECK(r.string("absent", "d") == "d");
  CHECK(r.number("ratio", 1) == 0.5);
  CHECK(r.boolean("flag", false));
  CHECK(r.integer("limit", 1, {.env = "LIMIT"}) == 7);
  CHECK(r.string_list("list") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(r.optional_string("nothing"));
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("SectionReader lists from the environment are comma-separated") {
  const Environment env(Vars{{"LIST", "a, b,,c"}});
  SectionReader r(parse("list: [x]\n"), env);
  CHECK(r.string_list("list", {.env = "LIST"}) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("SectionReader validation errors") {
  const Environment env;
  SectionReader required(parse("other: 1\n"), env);
  CHECK_THROWS_WITH(required.string("label", "", {.non_empty = true}), Catch::Contains("opts.label: is required"));

  SectionReader secret(parse("token: 12\n"), env);
  CHECK_THROWS_WITH(secret.string("token", "", {.secret = true, .one_of = {"a"}}), !Catch::Contains("12"));

  SectionReader list(parse("list: [a, [b]]\n"), env);
  CHECK_THROWS_WITH(list.string_list("list"), Catch::Contains("opts.list[1]: expected a value (got a list)"));

  SectionReader nested(parse("inner: 3\n"), env);
  CHECK_THROWS_WITH(nested.section("inner"), Catch::Contains("opts.inner: expected a mapping of keys"));

  SectionReader unknown(parse("labell: x\n"), env);
  (void)unknown.string("label", "d");
  CHECK_THROWS_WITH(unknown.finish(), Catch::Contains("f.yaml:1:1: opts.labell: unknown key (did you mean 'label'?"));
}

TEST_CASE("an undefined section reads as all defaults") {
  const Environment env;
  SectionReader r(ConfigNode{}, env);
  CHECK(r.integer("n", 3) == 3);
  CHECK_NOTHROW(r.finish());
}
