// Unit tests of the PTB tokenization step. Expected strings are CoreNLP v3.4.1 PTBTokenizer output
// (-preserveLines -lowerCase), confirmed by running the v3.4.1 lexer, and the pycocoevalcap wrapper's filter.
#include <chrono>
#include <clocale>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error.h"
#include "metrics/ptb/ptb_tokenizer.h"
#include "support/shared_data.h"

namespace glamm::ptb {
namespace {

// Raw tokenizer line for one caption tokenized alone (end of input right after it).
std::string raw(const std::string& caption) {
  std::string line = tokenize_line(caption);
  BatchResult b = tokenize_batch({caption}, LineBreakMode::kReference);
  EXPECT_EQ(b.raw.at(0), line) << "tokenize_line and a one-caption batch disagree for: " << caption;
  return line;
}

TEST(PtbTokenize, ContractionsAreSplitTreebankStyle) {
  EXPECT_EQ(raw("A man's dog isn't happy."), "a man 's dog is n't happy .");
  EXPECT_EQ(raw("They're sure he'd've said I'm fine, you'll see, we've won."),
            "they 're sure he 'd 've said i 'm fine , you 'll see , we 've won .");
  EXPECT_EQ(raw("Can't stop, won't stop"), "ca n't stop , wo n't stop");
  EXPECT_EQ(raw("Don\u2019t cross; it\u2019s wet"), "do n't cross ; it 's wet");
  EXPECT_EQ(raw("I cannot wanna gotta gimme lemme 'tis 'twas"),
            "i can not wan na got ta gim me lem me 't is 't was");
  EXPECT_EQ(raw("o'clock rock'n'roll y'all 'em 'til C'mon"), "o'clock rock 'n' roll y' all 'em 'til c'mon");
  EXPECT_EQ(raw("A 1990's car and the '90s style"), "a 1990 's car and the '90s style");
  EXPECT_EQ(raw("the dogs' toys"), "the dogs ' toys");
}

TEST(PtbTokenize, QuotesBecomeLatexQuotes) {
  EXPECT_EQ(raw("He said \"hi\" and 'bye' then ``ok'' \u201cx\u201d \u2018y\u2019 \u00ab z \u00bb \u2039 w \u203a"),
            "he said `` hi '' and ` bye ' then `` ok '' `` x '' ` y ' `` z '' ` w '");
  EXPECT_EQ(raw("The sign says \"STOP\"."), "the sign says `` stop '' .");
}

TEST(PtbTokenize, BracketsAreEscapedAndLowercased) {
  EXPECT_EQ(raw("(a) [b] {c} <d> << >>"), "-lrb- a -rrb- -lsb- b -rsb- -lcb- c -rcb- <d> << >>");
  EXPECT_EQ(raw(":) :-( ;) =D ^_^ (-_-) <3"), ":-rrb- :--lrb- ;-rrb- =d ^_^ -lrb--_--rrb- < 3");
}

TEST(PtbTokenize, EllipsesDashesAndRepeatedPunctuation) {
  EXPECT_EQ(raw("Wait... what.... really . . . yes\u2026 ok"), "wait ... what ... really ... yes ... ok");
  EXPECT_EQ(raw("a - b -- c --- d ---- e ----- f \u2014 g \u2013 h"), "a - b -- c -- d -- e ----- f -- g -- h");
  EXPECT_EQ(raw("What?! No!! Why?? Stop?"), "what ?! no !! why ?? stop ?");
  EXPECT_EQ(raw("food\u0085"), "food ...");
}

TEST(PtbTokenize, AbbreviationsAndAcronyms) {
  EXPECT_EQ(raw("Mr. Smith and Dr. Jones met Prof. X at St. Paul on Jan. 5 vs. the U.S. team"),
            "mr. smith and dr. jones met prof. x at st. paul on jan. 5 vs. the u.s. team");
  // ABBREV1 before an upper-case letter or at the end: the period is repeated as its own token.
  EXPECT_EQ(raw("I saw a.m. p.m. e.g. i.e. etc. Inc. Ltd. Co."),
            "i saw a.m. p.m. e.g. i.e. etc. . inc. . ltd. . co. .");
  EXPECT_EQ(raw("A man wearing a hat.A woman too"), "a man wearing a hat.a woman too");
}

TEST(PtbTokenize, NumbersCurrencyAndSymbols) {
  EXPECT_EQ(raw("3.5 1,000 -5 +3 10:45 1/2 1 1/2 \u00bd \u00bc \u2153 \u2155 12/25/2014 555-1234 (555) 123-4567"),
            "3.5 1,000 -5 +3 10:45 1/2 1\u00a01/2 1/2 1/4 1/3 \u2155 12/25/2014 555-1234 -lrb-555-rrb-\u00a0123-4567");
  EXPECT_EQ(raw("$5 US$10 \u00a33 \u20ac4 \u00a55 \u00a26 50% #9 #hashtag @user a@b.com"),
            "$ 5 us$ 10 # 3 $ 4 \u00a5 5 cents 6 50 % # 9 #hashtag @user a@b.com");
  EXPECT_EQ(raw("c++ C# f# AT&T S&P-500 pro- anti-war -LRB- C.D.s"),
            "c++ c# f# at&t s&p-500 pro- anti-war -lrb- c.d.s");
  EXPECT_EQ(raw("&amp; &lt; &gt; &quot;x&quot; &apos; &nbsp; &mdash; caf&eacute;"),
            "& < > `` x '' ' -- caf&eacute;");
}

TEST(PtbTokenize, UrlsEmailsAndFileNames) {
  EXPECT_EQ(raw("see http://example.com/a?b=c. and www.example.org or foo.com/bar"),
            "see http://example.com/a?b=c . and www.example.org or foo.com/bar");
  EXPECT_EQ(raw("file.txt img.jpg hat.A Yahoo! dog.The"), "file.txt img.jpg hat.a yahoo ! dog.the");
}

TEST(PtbTokenize, UntokenizableCharactersAreDeleted) {
  // Non-BMP emoji (two UTF-16 units each) and letters newer than the lexer's Unicode 6.3 tables are deleted.
  EXPECT_EQ(raw("A cat \U0001F600 on a mat \U0001F44D\U0001F3FD \u0560 \u037f ok"), "a cat on a mat ok");
  EXPECT_EQ(raw("word\u00adbreak co\u00adop \u00ad"), "wordbreak coop -");
  EXPECT_EQ(raw("A cat\u00a0on a\tmat\u3000now\u200b!"), "a cat on a mat now !");
}

TEST(PtbTokenize, JavaLowercasingAndCaselessMatching) {
  // toLowerCase(Locale.ENGLISH): U+0130 -> "i" + U+0307, final sigma; %caseless literals match U+212A and U+017F.
  EXPECT_EQ(raw("\u0130stanbul \u039f\u0394\u039f\u03a3 \u03a3 stra\u00dfe \u01c5 \u212ay. \u017ft. ok"),
            "i\u0307stanbul \u03bf\u03b4\u03bf\u03c2 \u03c3 stra\u00dfe \u01c6 ky. \u017ft. ok");
}

TEST(PtbTokenize, EmptyAndBlankCaptions) {
  EXPECT_EQ(raw(""), "");
  EXPECT_EQ(raw("   "), "");
  BatchResult b = tokenize_batch({"", "A dog.", ""}, LineBreakMode::kReference);
  EXPECT_EQ(b.tokenized, (std::vector<std::string>{"", "a dog", ""}));
  EXPECT_TRUE(b.warnings.empty());
  EXPECT_TRUE(tokenize_batch({}, LineBreakMode::kReference).tokenized.empty());
}

TEST(PtbFilter, DropsExactlyTheWrapperPunctuationList) {
  EXPECT_EQ(filter_punctuation("a man 's dog is n't happy ."), "a man 's dog is n't happy");
  EXPECT_EQ(filter_punctuation("`` stop '' ! ? , : ; - -- ... . ' `"), "stop");
  // Case-sensitive: the lowercased brackets survive, the upper-case ones would not.
  EXPECT_EQ(filter_punctuation("-lrb- x -rrb- -LRB- -RRB- -LCB- -RCB- -LSB-"), "-lrb- x -rrb- -LSB-");
  EXPECT_EQ(filter_punctuation("?! !! etc. u.s."), "?! !! etc. u.s.");
  // rstrip() then split(' '): inner empty fields are kept, trailing whitespace goes.
  EXPECT_EQ(filter_punctuation("a  b . \t\u00a0"), "a  b");
  EXPECT_EQ(filter_punctuation(""), "");
}

TEST(PtbBatch, NextCaptionIsLookAheadContextAsInOneJavaRun) {
  // "etc." followed by a line starting with an upper-case letter repeats the period; before lower case it does not.
  BatchResult up = tokenize_batch({"apples, etc.", "A dog"}, LineBreakMode::kReference);
  BatchResult low = tokenize_batch({"apples, etc.", "a dog"}, LineBreakMode::kReference);
  EXPECT_EQ(up.raw[0], "apples , etc. .");
  EXPECT_EQ(low.raw[0], "apples , etc.");
  EXPECT_EQ(up.tokenized[0], "apples etc.");
  EXPECT_EQ(low.tokenized[0], "apples etc.");
  BatchResult us = tokenize_batch({"U.S.", "The end", "U.S.", "the end"}, LineBreakMode::kReference);
  EXPECT_EQ(us.raw, (std::vector<std::string>{"u.s. .", "the end", "u.s.", "the end"}));
}

TEST(PtbBatch, ReferenceModeShiftsLaterCaptionsLikePycocoevalcap) {
  // "a\rb" prints two lines; zip(image_ids, lines) gives caption 1 the line "b" and caption 2 the line "c".
  BatchResult r = tokenize_batch({"a\rb", "c", "d"}, LineBreakMode::kReference);
  EXPECT_EQ(r.raw, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.tokenized, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.captions_with_line_breaks, 1u);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("2 caption(s) from index 1"), std::string::npos) << r.warnings[0];

  BatchResult s = tokenize_batch({"a\rb", "c", "d"}, LineBreakMode::kStrict);
  EXPECT_EQ(s.raw, (std::vector<std::string>{"a b", "c", "d"}));
  EXPECT_EQ(s.captions_with_line_breaks, 1u);

  // U+2028, U+2029, U+000B, U+000C each start a new line too.
  for (const char* brk : {"\u2028", "\u2029", "\x0b", "\x0c"}) {
    BatchResult u = tokenize_batch({std::string("p") + brk + "q", "r"}, LineBreakMode::kReference);
    EXPECT_EQ(u.raw, (std::vector<std::string>{"p", "q"})) << "break U+" << std::hex << int(brk[0]);
  }
}

TEST(PtbBatch, CarriageReturnBeforeTheSeparatorMergesIntoOneLineBreak) {
  // "x\r" + "\n" + "y" lexes "\r\n" as one newline: no shift (CRLF input stays aligned).
  BatchResult r = tokenize_batch({"x\r", "y"}, LineBreakMode::kReference);
  EXPECT_EQ(r.raw, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.captions_with_line_breaks, 1u);
  // A trailing "\r" on the last caption prints one extra empty line that zip drops.
  BatchResult t = tokenize_batch({"p\u2028q", "r", "z\r"}, LineBreakMode::kReference);
  EXPECT_EQ(t.raw, (std::vector<std::string>{"p", "q", "r"}));
}

TEST(PtbBatch, NewlinesInsideCaptionsBecomeSpaces) {
  BatchResult r = tokenize_batch({"a\nb", "c"}, LineBreakMode::kReference);
  EXPECT_EQ(r.raw, (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(r.captions_with_line_breaks, 0u);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(PtbBatch, TagSpanningTwoCaptionsIsSplitWhereJavaPrintsItsNewline) {
  // An SGML tag whose quoted attribute runs over the separator is one token containing '\n' (its spaces become
  // U+00A0); Python splits the printed text there, so the lines stay aligned.
  BatchResult r = tokenize_batch({"<a b=\"x", "y\">", "z"}, LineBreakMode::kReference);
  EXPECT_EQ(r.raw, (std::vector<std::string>{"<a\u00a0b=\"x", "y\">", "z"}));
}

TEST(PtbBatch, InvalidUtf8NamesTheCaption) {
  try {
    tokenize_batch({"fine", "bad \xff byte"}, LineBreakMode::kReference);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.record(), "caption 1");
    EXPECT_NE(std::string(e.what()).find("byte 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tokenize_line("\xc0\xaf"), InputError);          // overlong
  EXPECT_THROW(tokenize_line("\xed\xa0\x80"), InputError);      // encoded surrogate
  EXPECT_THROW(tokenize_line("ok \xe2\x82"), InputError);       // truncated
}

std::vector<std::string> tricky_corpus() {
  std::vector<std::string> caps;
  const char* parts[] = {"A man's dog.", "apples, etc.", "The U.S.", "a b.c. D", "x\r", "<a b='q", "r'>", "\u2028",
                         "(5) 555-1234", "gonna", "\U0001F600", "Mr. X", "THE END...", "e.g. The", "i.e. the"};
  for (int i = 0; i < 6000; ++i) caps.push_back(std::string(parts[i % 15]) + " " + parts[(i * 7) % 15]);
  return caps;
}

TEST(PtbBatch, ThreadCountDoesNotChangeResults) {
  auto caps = tricky_corpus();
  for (auto mode : {LineBreakMode::kReference, LineBreakMode::kStrict}) {
    BatchResult one = tokenize_batch(caps, mode, 1);
    for (int threads : {2, 3, 8}) {
      BatchResult many = tokenize_batch(caps, mode, threads);
      EXPECT_EQ(one.raw, many.raw) << threads << " threads";
      EXPECT_EQ(one.tokenized, many.tokenized);
      EXPECT_EQ(one.warnings, many.warnings);
    }
  }
}

TEST(PtbTokenize, ResultsDoNotDependOnTheProcessLocale) {
  auto caps = tricky_corpus();
  BatchResult c_locale = tokenize_batch(caps, LineBreakMode::kReference, 2);
  std::string line = tokenize_line("\u0130STANBUL Stra\u00dfe I.B.M. \u00c9T\u00c9");
  bool switched = false;
  for (const char* loc : {"de_DE.UTF-8", "tr_TR.UTF-8", "C.UTF-8"})
    if (std::setlocale(LC_ALL, loc)) {
      switched = true;
      EXPECT_EQ(tokenize_batch(caps, LineBreakMode::kReference, 2).raw, c_locale.raw) << loc;
      EXPECT_EQ(tokenize_line("\u0130STANBUL Stra\u00dfe I.B.M. \u00c9T\u00c9"), line) << loc;
    }
  std::setlocale(LC_ALL, "C");
  EXPECT_EQ(line, "i\u0307stanbul stra\u00dfe i.b.m. \u00e9t\u00e9");
  GLAMM_REQUIRE(switched, "no UTF-8 locale installed besides C (scripts/setup.sh generates de_DE.UTF-8)");
}

TEST(PtbTokenize, LongCaptionsScaleLinearly) {
  std::string words;
  while (words.size() < 100000) words += "A man's dog (maybe 5) isn't happy... etc. U.S. www.x.com ";
  std::string letters(100000, 'a');
  std::string dots;
  for (int i = 0; i < 50000; ++i) dots += "a.";
  std::string spaces = "U.S." + std::string(100000, ' ') + "The";
  // Inputs where a pattern (e-mail, URL, SGML) scans to the end of the caption at every position before failing:
  // quadratic in a plain maximal-munch scanner (CoreNLP included), linear here.
  std::string commas, emoji, tags, want_commas, want_tags;
  for (int i = 0; i < 50000; ++i) {
    commas += "a,";
    want_commas += i ? " a ," : "a ,";
  }
  for (int i = 0; i < 50000; ++i) emoji += "\U0001F600";
  for (int i = 0; i < 33333; ++i) {
    tags += "<!a";
    want_tags += i ? " < ! a" : "< ! a";
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string w = tokenize_line(words);
  std::string l = tokenize_line(letters);
  std::string d = tokenize_line(dots);
  std::string s = tokenize_line(spaces);
  std::string c = tokenize_line(commas);
  std::string e = tokenize_line(emoji);
  std::string g = tokenize_line(tags);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(w.substr(0, 44), "a man 's dog -lrb- maybe 5 -rrb- is n't happ");
  EXPECT_EQ(l, letters);
  EXPECT_EQ(d, dots);               // one acronym-with-period token
  EXPECT_EQ(s, "u.s. the");         // the acronym look-ahead needs a space after "The"; none at the end
  EXPECT_EQ(c, want_commas);
  EXPECT_EQ(e, "");
  EXPECT_EQ(g, want_tags);
  EXPECT_LT(secs, 2.0) << "100k-character captions took " << secs << " s";
}

}  // namespace
}  // namespace glamm::ptb
