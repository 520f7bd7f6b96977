#include "core/json/bounded_json.hpp"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace routemq {

namespace {

using json = nlohmann::json;

// Builds the document from the parser's events, as nlohmann's own DOM parser does, and stops the
// parse at the first array or object past the limit: the MessagePack reader recurses per level, so
// stopping there is what bounds its stack.
class BoundedBuilder final : public nlohmann::json_sax<json> {
 public:
  explicit BoundedBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() override { return add(nullptr); }
  bool boolean(bool value) override { return add(value); }
  bool number_integer(number_integer_t value) override { return add(value); }
  bool number_unsigned(number_unsigned_t value) override { return add(value); }
  bool number_float(number_float_t value, const string_t&) override { return add(value); }
  bool string(string_t& value) override { return add(std::move(value)); }
  bool binary(binary_t& value) override { return add(json::binary_t(std::move(value))); }
  bool start_object(std::size_t) override { return open(json::value_t::object); }
  bool key(string_t& name) override {
    key_ = std::move(name);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::value_t::array); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = e.what();
    return false;
  }

  BoundedJson result(bool parsed) && {
    if (parsed) return {std::move(root_), {}};
    if (too_deep_) return {std::nullopt, fmt::format("nested deeper than {} levels", max_depth_), true};
    return {std::nullopt, error_.empty() ? std::string("invalid input") : std::move(error_), false};
  }

 private:
  // Places a value in the open array or object (or as the root); returns where it now lives.
  json* place(json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();  // stable while it is open: its siblings come after it closes
    }
    json& slot = parent[key_];  // a repeated key: the last one wins, as nlohmann's parser does
    slot = std::move(value);
    return &slot;
  }
  bool add(json value) {
    place(std::move(value));
    return true;
  }
  bool open(json::value_t type) {
    if (open_.size() >= max_depth_) {
      too_deep_ = true;
      return false;
    }
    open_.push_back(place(json(type)));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  std::size_t max_depth_;
  json root_;
  std::vector<json*> open_;  // the arrays and objects not closed yet, outermost first
  std::string key_;
  bool too_deep_ = false;
  std::string error_;
};

}  // namespace

BoundedJson parse_json(std::string_view text, std::size_t max_depth) {
  BoundedBuilder builder(max_depth);
  const bool parsed = json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true);
  return std::move(builder).result(parsed);
}

BoundedJson parse_msgpack(std::string_view bytes, std::size_t max_depth) {
  BoundedBuilder builder(max_depth);
  const bool parsed = json::sax_parse(bytes, &builder, json::input_format_t::msgpack, /*strict=*/true);
  return std::move(builder).result(parsed);
}

}  // namespace routemq
