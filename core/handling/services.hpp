#pragma once
// The services an app injects into handlers and middleware (a plugin's client, a metrics registry ...),
// looked up by type. Core knows none of them: plugins provide them at start-up.
#include <any>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <unordered_map>

namespace routemq {

class Services {
 public:
  // Makes `service` available as T. The registry shares ownership.
  template <class T>
  void provide(std::shared_ptr<T> service) {
    entries_[std::type_index(typeid(T))] = std::move(service);
  }

  // The service registered as T, or nullptr.
  template <class T>
  T* find() const {
    auto it = entries_.find(std::type_index(typeid(T)));
    if (it == entries_.end()) return nullptr;
    return std::any_cast<const std::shared_ptr<T>&>(it->second).get();
  }

  // The service registered as T; throws naming the type when the app provides none.
  template <class T>
  T& get() const {
    if (T* service = find<T>()) return *service;
    throw std::logic_error(std::string("no service of type ") + typeid(T).name() +
                           " was provided to the app (is its plugin enabled?)");
  }

 private:
  std::unordered_map<std::type_index, std::any> entries_;
};

}  // namespace routemq
