// The template language (templates/render.h) and the TemplateSet: built-ins, overrides,
// validation at load, rendering every template in every language.
#include "templates/templates.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "templates/render.h"

namespace mailreqd {
namespace {

namespace fs = std::filesystem;

std::string RenderText(const std::string& tmpl, const TemplateVars& vars) {
  Result<ParsedTemplate> t = ParsedTemplate::Parse(tmpl);
  REQUIRE(t.ok());
  Result<std::string> out = t->Render(vars);
  REQUIRE(out.ok());
  return *out;
}

std::string ParseError(const std::string& tmpl) {
  Result<ParsedTemplate> t = ParsedTemplate::Parse(tmpl);
  REQUIRE_FALSE(t.ok());
  return t.status().message();
}

// A value for every variable any template may use; non-empty, so every section shows.
TemplateVars AllVariables() {
  TemplateVars v;
  for (const std::string& name : TemplateSet::Names()) {
    for (const std::string& var : TemplateSet::Variables(name)) v[var] = "<" + var + ">";
  }
  v["token"] = "MFRGGZDFMZTWQ2LKNNWG23TPOA";
  return v;
}

// A temp dir removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mailreqd-templates-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

std::string LoadError(const TempDir& dir) {
  Result<TemplateSet> set = TemplateSet::Load(dir.path().string());
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().kind() == ErrorKind::kFatal);
  return set.status().message();
}

}  // namespace

TEST_CASE("ParsedTemplate substitutes variables without escaping", "[templates]") {
  CHECK(RenderText("Dear {{name}}, {{ company }}.",
                   {{"name", "O'Brien & <Co>"}, {"company", "X"}}) == "Dear O'Brien & <Co>, X.");
  CHECK(RenderText("no tags } here }}", {}) == "no tags } here }}");
  CHECK(RenderText("", {}).empty());
}

TEST_CASE("ParsedTemplate shows sections by emptiness", "[templates]") {
  const std::string t = "A{{#v}}[{{v}}]{{/v}}{{^v}}(none){{/v}}B";
  CHECK(RenderText(t, {{"v", "x"}}) == "A[x]B");
  CHECK(RenderText(t, {{"v", ""}}) == "A(none)B");
  CHECK(RenderText("{{#a}}{{#b}}ab{{/b}}{{/a}}.", {{"a", "1"}, {"b", ""}}) == ".");
  CHECK(RenderText("{{#a}}{{#b}}ab{{/b}}{{/a}}.", {{"a", "1"}, {"b", "1"}}) == "ab.");
}

TEST_CASE("ParsedTemplate drops lines holding only a section tag or comment", "[templates]") {
  const std::string t = "Hi\n  {{#v}}\nv={{v}}\n{{/v}}\n{{! note }}\nEnd\n";
  CHECK(RenderText(t, {{"v", "1"}}) == "Hi\nv=1\nEnd\n");
  CHECK(RenderText(t, {{"v", ""}}) == "Hi\nEnd\n");
  // A variable tag alone on a line keeps its line; a section tag next to text does too.
  CHECK(RenderText("{{v}}\nx {{#v}}y{{/v}}\n", {{"v", "1"}}) == "1\nx y\n");
  CHECK(RenderText("{{#v}}\nlast{{/v}}", {{"v", "1"}}) == "last");
}

TEST_CASE("ParsedTemplate lists the variables it uses", "[templates]") {
  Result<ParsedTemplate> t = ParsedTemplate::Parse("{{a}} {{#b}}{{/b}} {{^c}}{{/c}} {{! d }}");
  REQUIRE(t.ok());
  CHECK(t->Variables() == std::set<std::string>{"a", "b", "c"});
}

TEST_CASE("ParsedTemplate reports malformed templates with their line", "[templates]") {
  CHECK(ParseError("a\n{{name") == "line 2: \"{{\" without \"}}\"");
  CHECK(ParseError("x\n{{#a}}\n\nx") == "line 2: section \"a\" is never closed");
  CHECK(ParseError("{{#a}}{{/b}}") == "line 1: {{/b}} closes section \"a\"");
  CHECK(ParseError("x\n{{/a}}") == "line 2: {{/a}} closes no section");
  CHECK(ParseError("{{Name}}").find("malformed tag") != std::string::npos);
  CHECK(ParseError("{{{name}}}").find("malformed tag") != std::string::npos);
  CHECK(ParseError("{{}}").find("malformed tag") != std::string::npos);
  CHECK(ParseError("{{a b}}").find("malformed tag") != std::string::npos);
}

TEST_CASE("ParsedTemplate refuses to render with a variable missing", "[templates]") {
  Result<ParsedTemplate> t = ParsedTemplate::Parse("{{#a}}x{{/a}}{{b}}");
  REQUIRE(t.ok());
  Result<std::string> out = t->Render({{"a", "1"}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().kind() == ErrorKind::kPermanent);
  CHECK(out.status().message() == "missing template variable \"b\"");
}

TEST_CASE("TemplateSet has every template built in, in every language", "[templates]") {
  CHECK(TemplateSet::Names().size() == 16);
  std::set<std::string> builtin;
  for (const BuiltinTemplateFile& f : BuiltinTemplateFiles()) builtin.insert(f.path);
  for (const std::string& name : TemplateSet::Names()) {
    for (const char* lang : {"en", "zh-Hant", "zh-Hans"}) {
      INFO(lang << "/" << name);
      CHECK(builtin.count(std::string(lang) + "/" + name + ".txt") == 1);
    }
  }
  CHECK(builtin.size() == TemplateSet::Names().size() * 3);
}

TEST_CASE("TemplateSet renders every template with no tag left", "[templates]") {
  Result<TemplateSet> set = TemplateSet::Load("");
  REQUIRE(set.ok());
  TemplateVars vars = AllVariables();
  for (Language lang :
       {Language::kEnglish, Language::kTraditionalChinese, Language::kSimplifiedChinese}) {
    for (const std::string& name : TemplateSet::Names()) {
      INFO(LanguageFolder(lang) << "/" << name);
      Result<Rendered> r = set->Render(name, lang, vars);
      REQUIRE(r.ok());
      for (const std::string* s : {&r->subject, &r->body}) {
        CHECK(s->find("{{") == std::string::npos);
        CHECK(s->find("}}") == std::string::npos);
      }
      CHECK(r->body.back() == '\n');
      CHECK(r->body.find("\n\n\n") == std::string::npos);
      CHECK(r->body.find('\r') == std::string::npos);
      if (vars.count("token") && (name == "unsubscribe_confirmed" || name == "confirm_request" ||
                                  name == "email_change_confirm")) {
        CHECK(r->body.find("[ref:MFRGGZDFMZTWQ2LKNNWG23TPOA]") != std::string::npos);
        CHECK(r->subject.find("[ref:MFRGGZDFMZTWQ2LKNNWG23TPOA]") != std::string::npos);
      }
    }
  }
}

TEST_CASE("TemplateSet renders every template with only the variables it is given", "[templates]") {
  Result<TemplateSet> set = TemplateSet::Load("");
  REQUIRE(set.ok());
  for (const std::string& name : TemplateSet::Names()) {
    TemplateVars vars;
    for (const std::string& v : TemplateSet::Variables(name)) vars[v] = "";
    INFO(name);
    CHECK(set->Render(name, Language::kTraditionalChinese, vars).ok());
    vars.erase("company");
    CHECK_FALSE(set->Render(name, Language::kEnglish, vars).ok());
  }
}

TEST_CASE("TemplateSet keeps neutral replies free of account details", "[templates]") {
  // neutral_ack and token_invalid go to unverified senders: they must not echo the name or
  // username (which would tell whether an account exists).
  Result<TemplateSet> set = TemplateSet::Load("");
  REQUIRE(set.ok());
  TemplateVars vars = AllVariables();
  for (const char* name : {"neutral_ack", "token_invalid", "email_change_confirm"}) {
    for (Language lang :
         {Language::kEnglish, Language::kTraditionalChinese, Language::kSimplifiedChinese}) {
      Result<Rendered> r = set->Render(name, lang, vars);
      REQUIRE(r.ok());
      CHECK(r->body.find("<name>") == std::string::npos);
    }
  }
}

TEST_CASE("TemplateSet reports an unknown template name", "[templates]") {
  Result<TemplateSet> set = TemplateSet::Load("");
  REQUIRE(set.ok());
  Result<Rendered> r = set->Render("no_such_template", Language::kEnglish, AllVariables());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kPermanent);
}

TEST_CASE("TemplateSet takes an operator's file over the built-in one", "[templates]") {
  TempDir dir;
  dir.Write("zh-Hant/keep_restored.txt", "Subject: 已恢復 {{service}}\r\n\r\n{{name}}：好。\r\n");
  dir.Write("README", "not a template");
  Result<TemplateSet> set = TemplateSet::Load(dir.path().string());
  REQUIRE(set.ok());
  TemplateVars vars = AllVariables();
  Result<Rendered> r = set->Render("keep_restored", Language::kTraditionalChinese, vars);
  REQUIRE(r.ok());
  CHECK(r->subject == "已恢復 <service>");
  CHECK(r->body == "<name>：好。\n");
  // Other languages and templates keep the built-ins.
  Result<Rendered> en = set->Render("keep_restored", Language::kEnglish, vars);
  REQUIRE(en.ok());
  CHECK(en->body.find("withdrawn the cancellation") != std::string::npos);
}

TEST_CASE("TemplateSet rejects bad override files, naming them", "[templates]") {
  TempDir dir;
  std::string file;
  SECTION("a variable the template does not receive") {
    file = "en/keep_restored.txt";
    dir.Write(file, "Subject:\n\nEnds {{end_date}}\n");
    CHECK(LoadError(dir).find("variable \"end_date\" is not available here") != std::string::npos);
  }
  SECTION("a section never closed, with the file's line number") {
    file = "en/policy_answer.txt";
    dir.Write(file, "Subject: x\n\nHello\n{{#name}}\n");
    CHECK(LoadError(dir).find("line 4: section \"name\" is never closed") != std::string::npos);
  }
  SECTION("a misspelt template name") {
    file = "en/unsubscribe_confimed.txt";
    dir.Write(file, "Subject:\n\nx\n");
    CHECK(LoadError(dir).find("unknown template name") != std::string::npos);
  }
  SECTION("an unknown language folder") {
    file = "fr/policy_answer.txt";
    dir.Write(file, "Subject:\n\nx\n");
    CHECK(LoadError(dir).find("unknown language folder") != std::string::npos);
  }
  SECTION("no Subject line") {
    file = "en/policy_answer.txt";
    dir.Write(file, "Hello\n");
    CHECK(LoadError(dir).find("must start with \"Subject:\"") != std::string::npos);
  }
  SECTION("no blank line after the subject") {
    file = "en/policy_answer.txt";
    dir.Write(file, "Subject: x\nbody\n");
    CHECK(LoadError(dir).find("line 2: must be empty") != std::string::npos);
  }
  SECTION("invalid UTF-8") {
    file = "zh-Hans/policy_answer.txt";
    dir.Write(file, "Subject: \xE5\x8F\n\nx\n");
    CHECK(LoadError(dir).find("not valid UTF-8") != std::string::npos);
  }
  CHECK(LoadError(dir).find((dir.path() / file).string()) != std::string::npos);
}

TEST_CASE("TemplateSet fails when the override folder is missing", "[templates]") {
  Result<TemplateSet> set = TemplateSet::Load("/nonexistent/mailreqd-templates");
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().kind() == ErrorKind::kFatal);
}

TEST_CASE("LanguageFolder names the template folders", "[templates]") {
  CHECK(std::string(LanguageFolder(Language::kEnglish)) == "en");
  CHECK(std::string(LanguageFolder(Language::kTraditionalChinese)) == "zh-Hant");
  CHECK(std::string(LanguageFolder(Language::kSimplifiedChinese)) == "zh-Hans");
}

}  // namespace mailreqd
