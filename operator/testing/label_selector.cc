#include "operator/testing/label_selector.h"

#include <algorithm>
#include <cctype>

namespace bgo::testing {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool validKey(const std::string& k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

bool validValue(const std::string& v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

core::Unexpected bad(const std::string& text, const std::string& why) {
  return core::fail(core::ErrorCode::kBadRequest,
                    "unable to parse requirement: " + why + " in selector \"" + text + "\"", 400);
}

// Splits on commas that are not inside parentheses.
core::Result<std::vector<std::string>> splitTopLevel(const std::string& text) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth < 0) return bad(text, "unbalanced parenthesis");
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (depth != 0) return bad(text, "unbalanced parenthesis");
  parts.push_back(cur);
  return parts;
}

}  // namespace

core::Result<LabelSelector> LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  auto parts = splitTopLevel(text);
  if (!parts) return core::fail(parts.error());
  for (const std::string& raw : *parts) {
    std::string p = trim(raw);
    if (p.empty()) return bad(text, "empty requirement");
    Requirement r;
    if (p[0] == '!') {
      r.key = trim(p.substr(1));
      r.op = Op::kDoesNotExist;
    } else if (auto open = p.find('('); open != std::string::npos) {
      if (p.back() != ')') return bad(text, "expected ')'");
      std::string head = trim(p.substr(0, open));
      auto space = head.find_last_of(" \t");
      if (space == std::string::npos) return bad(text, "expected 'in' or 'notin'");
      std::string op = head.substr(space + 1);
      r.key = trim(head.substr(0, space));
      if (op == "in") r.op = Op::kIn;
      else if (op == "notin") r.op = Op::kNotIn;
      else return bad(text, "unknown operator '" + op + "'");
      std::string inner = p.substr(open + 1, p.size() - open - 2);
      size_t start = 0;
      for (;;) {
        size_t comma = inner.find(',', start);
        std::string v = trim(inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!validValue(v)) return bad(text, "invalid value '" + v + "'");
        r.values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (r.values.size() == 1 && r.values[0].empty()) return bad(text, "empty value set");
    } else if (auto ne = p.find("!="); ne != std::string::npos) {
      r.key = trim(p.substr(0, ne));
      r.op = Op::kNotEquals;
      r.values.push_back(trim(p.substr(ne + 2)));
    } else if (auto eq = p.find('='); eq != std::string::npos) {
      r.key = trim(p.substr(0, eq));
      size_t vstart = eq + 1;
      if (vstart < p.size() && p[vstart] == '=') ++vstart;
      r.op = Op::kEquals;
      r.values.push_back(trim(p.substr(vstart)));
    } else {
      r.key = p;
      r.op = Op::kExists;
    }
    if (!validKey(r.key)) return bad(text, "invalid key '" + r.key + "'");
    for (const auto& v : r.values) {
      if (!validValue(v)) return bad(text, "invalid value '" + v + "'");
    }
    sel.requirements_.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    auto in = [&] { return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end(); };
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!in()) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (in()) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::matchesObject(const nlohmann::json& object) const {
  if (requirements_.empty()) return true;
  std::map<std::string, std::string> labels;
  if (object.is_object()) {
    auto meta = object.find("metadata");
    if (meta != object.end() && meta->is_object()) {
      auto l = meta->find("labels");
      if (l != meta->end() && l->is_object()) {
        for (const auto& [k, v] : l->items()) {
          if (v.is_string()) labels[k] = v.get<std::string>();
        }
      }
    }
  }
  return matches(labels);
}

}  // namespace bgo::testing
