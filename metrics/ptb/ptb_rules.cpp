// PTBLexer v3.4.1 macros and rules as data (see ptb_rules.h). Patterns keep JFlex syntax so they can be checked
// against PTBLexer.flex line by line; non-ASCII characters are written as \uXXXX escapes.
#include "metrics/ptb/ptb_rules.h"

namespace glamm::ptb::detail {

void define_ptb_macros(PatternCompiler& pc) {
  auto d = [&](const char* name, const char* pattern) { pc.define(name, pattern); };
  d("SGML",
    R"re(\<([!\?][A-Za-z\-][^>\r\n]*|[A-Za-z][A-Za-z0-9_:\.\-]*([ ]+([A-Za-z][A-Za-z0-9_:\.\-]*|[A-Za-z][A-Za-z0-9_:\.\-]*[ ]*=[ ]*('[^']*'|\"[^\"]*\")))*[ ]*\/?|\/[A-Za-z][A-Za-z0-9_:\.\-]*)[ ]*\>)re");
  d("SPMDASH", R"re(&(MD|mdash|ndash);|[\u0096\u0097\u2013\u2014\u2015])re");
  d("SPAMP", R"re(&amp;)re");
  d("SPPUNC", R"re(&(HT|TL|UR|LR|QC|QL|QR|odq|cdq|#[0-9]+);)re");
  d("SPLET", R"re(&[aeiouAEIOU](acute|grave|uml);)re");
  d("SPACE", R"re([ \t\u00A0\u2000-\u200A\u3000])re");
  d("SPACES", R"re({SPACE}+)re");
  d("NEWLINE", R"re(\r|\r?\n|\u2028|\u2029|\u000B|\u000C|\u0085)re");
  d("SPACENL", R"re(({SPACE}|{NEWLINE}))re");
  d("SPACENLS", R"re({SPACENL}+)re");
  d("SENTEND", R"re({SPACENL}({SPACENL}|[:uppercase:]|{SGML}))re");
  d("DIGIT", R"re([:digit:]|[\u07C0-\u07C9])re");
  d("DATE", R"re({DIGIT}{1,2}[\-\/]{DIGIT}{1,2}[\-\/]{DIGIT}{2,4})re");
  d("NUM", R"re({DIGIT}+|{DIGIT}*([.:,\u00AD\u066B\u066C]{DIGIT}+)+)re");
  d("NUMBER", R"re([\-+]?{NUM})re");
  d("SUBSUPNUM", R"re([\u207A\u207B\u208A\u208B]?([\u2070\u00B9\u00B2\u00B3\u2074-\u2079]+|[\u2080-\u2089]+))re");
  d("FRAC", R"re(({DIGIT}{1,4}[- \u00A0])?{DIGIT}{1,4}(\\?\/|\u2044){DIGIT}{1,4})re");
  d("FRAC2", R"re([\u00BC\u00BD\u00BE\u2153-\u215E])re");
  d("DOLSIGN", R"re(([A-Z]*\$|#))re");
  d("DOLSIGN2", R"re([\u00A2\u00A3\u00A4\u00A5\u0080\u20A0\u20AC\u060B\u0E3F\u20A4\uFFE0\uFFE1\uFFE5\uFFE6])re");
  d("LETTER",
    R"re(([:letter:]|{SPLET}|[\u00AD\u0237-\u024F\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02FF\u0300-\u036F\u0370-\u037D\u0384\u0385\u03CF\u03F6\u03FC-\u03FF\u0483-\u0487\u04CF\u04F6-\u04FF\u0510-\u0525\u055A-\u055F\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0615-\u061A\u063B-\u063F\u064B-\u065E\u0670\u06D6-\u06EF\u06FA-\u06FF\u070F\u0711\u0730-\u074F\u0750-\u077F\u07A6-\u07B1\u07CA-\u07F5\u07FA\u0900-\u0903\u093C\u093E-\u094E\u0951-\u0955\u0962-\u0963\u0981-\u0983\u09BC-\u09C4\u09C7\u09C8\u09CB-\u09CD\u09D7\u09E2\u09E3\u0A01-\u0A03\u0A3C\u0A3E-\u0A4F\u0A81-\u0A83\u0ABC-\u0ACF\u0B82\u0BBE-\u0BC2\u0BC6-\u0BC8\u0BCA-\u0BCD\u0C01-\u0C03\u0C3E-\u0C56\u0D3E-\u0D44\u0D46-\u0D48\u0E30-\u0E3A\u0E47-\u0E4E\u0EB1-\u0EBC\u0EC8-\u0ECD]))re");
  d("WORD", R"re({LETTER}({LETTER}|{DIGIT})*([.!?]{LETTER}({LETTER}|{DIGIT})*)*)re");
  d("FILENAME_EXT",
    R"re(bat|bmp|c|class|cgi|cpp|dll|doc|docx|exe|gif|gz|h|htm|html|jar|java|jpeg|jpg|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip)re");
  d("FILENAME", R"re(({LETTER}|{DIGIT})+([.]({LETTER}|{DIGIT})+)*([.]{FILENAME_EXT}))re");
  d("THING",
    R"re(([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+({HYPHEN}([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+)*)re");
  d("THINGA", R"re([A-Z]+(([+&]|{SPAMP})[A-Z]+)+)re");
  d("THING3", R"re([A-Za-z0-9]+(-[A-Za-z]+){0,2}(\\?\/[A-Za-z0-9]+(-[A-Za-z]+){0,2}){1,2})re");
  d("APOS", R"re(['\u0092\u2019]|&apos;)re");
  d("APOSETCETERA", R"re({APOS}|[`\u0091\u2018\u201B])re");
  d("HTHING", R"re([A-Za-z0-9][A-Za-z0-9.,\u00AD]*(-([A-Za-z0-9\u00AD]+|{ACRO2}\.))+)re");
  d("REDAUX", R"re({APOS}([msdMSD]|re|ve|ll))re");
  d("SWORD", R"re([A-Za-z\u00AD]*[A-MO-Za-mo-z](\u00AD)*)re");
  d("SREDAUX", R"re(n{APOSETCETERA}t)re");
  d("APOWORD",
    R"re({APOS}n{APOS}?|[lLdDjJ]{APOS}|Dunkin{APOS}|somethin{APOS}|ol{APOS}|{APOS}em|[A-HJ-XZn]{APOSETCETERA}[:letter:]{2}[:letter:]*|{APOS}[2-9]0s|{APOS}till?|[:letter:][:letter:]*[aeiouyAEIOUY]{APOSETCETERA}[aeiouA-Z][:letter:]*|{APOS}cause|cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l|O{APOSETCETERA}o)re");
  d("APOWORD2", R"re(y{APOS})re");
  d("FULLURL", R"re(https?:\/\/[^ \t\n\f\r\"<>|(){}]+[^ \t\n\f\r\"<>|.!?(){},-])re");
  d("LIKELYURL",
    R"re(((www\.([^ \t\n\f\r\"<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|(([^ \t\n\f\r\"`'<>|.!?(){},-_$]+\.)+(com|net|org|edu)))(\/[^ \t\n\f\r\"<>|()]+[^ \t\n\f\r\"<>|.!?(){},-])?)re");
  d("EMAIL",
    R"re((&lt;|<)?[a-zA-Z0-9][^ \t\n\f\r\"<>|()\u00A0{}]*@([^ \t\n\f\r\"<>|(){}.\u00A0]+\.)*([^ \t\n\f\r\"<>|(){}.\u00A0]+)(&gt;|>)?)re");
  d("TWITTER_NAME", R"re(@[a-zA-Z_][a-zA-Z_0-9]*)re");
  d("TWITTER_CATEGORY", R"re(#{LETTER}+)re");
  d("TWITTER", R"re({TWITTER_NAME}|{TWITTER_CATEGORY})re");
  d("ABMONTH", R"re(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)re");
  d("ABDAYS", R"re(Mon|Tue|Tues|Wed|Thu|Thurs|Fri)re");
  d("ABSTATE",
    R"re(Ala|Ariz|[A]z|[A]rk|Calif|Colo|Conn|Ct|Dak|[D]el|Fla|Ga|[I]ll|Ind|Kans?|Ky|[L]a|[M]ass|Md|Mich|Minn|[M]iss|Mo|Mont|Neb|Nev|Okla|[O]re|[P]a|Penn|Tenn|[T]ex|Va|Vt|[W]ash|Wisc?|Wyo)re");
  d("ABCOMP", R"re(Inc|Cos?|Corp|Pp?t[ye]s?|Ltd|Plc|Rt|Bancorp|Bhd|Assn|Univ|Intl|Sys)re");
  d("ABNUM", R"re(tel|est|ext|sq)re");
  d("ABPTIT", R"re(Jr|Sr|Bros|(Ed|Ph)\.D|Blvd|Rd|Esq)re");
  d("ABBREV1", R"re(({ABMONTH}|{ABDAYS}|{ABSTATE}|{ABCOMP}|{ABNUM}|{ABPTIT}|etc|al|seq|Bldg)\.)re");
  d("ACRO", R"re([A-Za-z](\.[A-Za-z])*|(Canada|Sino|Korean|EU|Japan|non)-U\.S|U\.S\.-(U\.K|U\.S\.S\.R))re");
  d("ACRO2", R"re([A-Za-z](\.[A-Za-z])+|(Canada|Sino|Korean|EU|Japan|non)-U\.S|U\.S\.-(U\.K|U\.S\.S\.R))re");
  d("ABTITLE",
    R"re(Mr|Mrs|Ms|[M]iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|Pvt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det|Mt|Ft|Adj|Adv|Asst|Assoc|Ens|Insp|Mlle|Mme|Msgr|Sfc)re");
  d("ABCOMP2", R"re(Invt|Elec|Natl|M[ft]g|Dept)re");
  d("ABBREV4", R"re({ABTITLE}|vs|Alex|Wm|Jos|Cie|a\.k\.a|cf|TREAS|Ph|{ACRO}|{ABCOMP2})re");
  d("ABBREV2", R"re({ABBREV4}\.)re");
  d("ACRONYM", R"re(({ACRO})\.)re");
  d("ABBREV3", R"re((ca|figs?|prop|nos?|art|bldg|prop|pp|op)\.)re");
  d("PHONE",
    R"re((\([0-9]{2,3}\)[ \u00A0]?|(\+\+?)?([0-9]{2,4}[\- \u00A0])?[0-9]{2,4}[\- \u00A0])[0-9]{3,4}[\- \u00A0]?[0-9]{3,5}|((\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5})re");
  d("FAKEDUCKFEET", R"re(<<|>>)re");
  d("LESSTHAN", R"re(<|&lt;)re");
  d("GREATERTHAN", R"re(>|&gt;)re");
  d("HYPHEN", R"re([-_\u058A\u2010\u2011])re");
  d("HYPHENS", R"re(\-+)re");
  d("LDOTS", R"re(\.{3,5}|(\.[ \u00A0]){2,4}\.|[\u0085\u2026])re");
  d("ATS", R"re(@+)re");
  d("UNDS", R"re(_+)re");
  d("ASTS", R"re(\*+|(\\\*){1,3})re");
  d("HASHES", R"re(#+)re");
  d("FNMARKS", R"re({ATS}|{HASHES}|{UNDS})re");
  d("INSENTP", R"re([,;:\u3001])re");
  d("QUOTES",
    R"re({APOS}|''|[`\u2018\u2019\u201A\u201B\u201C\u201D\u0091\u0092\u0093\u0094\u201E\u201F\u2039\u203A\u00AB\u00BB]{1,2})re");
  d("DBLQUOT", R"re(\"|&quot;)re");
  d("TBSPEC", R"re(-(RRB|LRB|RCB|LCB|RSB|LSB)-|C\.D\.s|pro-|anti-|S(&|&amp;)P-500|S(&|&amp;)Ls|Cap{APOS}n|c{APOS}est)re");
  d("TBSPEC2", R"re({APOS}[0-9][0-9])re");
  d("SMILEY", R"re([<>]?[:;=][\-o\*']?[\(\)DPdpO\\{@\|\[\]])re");
  d("ASIANSMILEY",
    R"re([\^x=~<>]\.\[\^x=~<>]|[\-\^x=~<>']_[\-\^x=~<>']|\([\-\^x=~<>'][_.]?[\-\^x=~<>']\)|\([\^x=~<>']-[\^x=~<>'`]\))re");
  d("MISCSYMBOL",
    R"re([+%&~\^|\\\u00A6\u00A7\u00A8\u00A9\u00AC\u00AE\u00AF\u00B0-\u00B3\u00B4-\u00BA\u00D7\u00F7\u0387\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0600-\u0603\u0606-\u060A\u060C\u0614\u061B\u061E\u066A\u066D\u0703-\u070D\u07F6\u07F7\u07F8\u0964\u0965\u0E4F\u1FBD\u2016\u2017\u2020-\u2023\u2030-\u2038\u203B\u203E-\u2042\u2044\u207A-\u207F\u208A-\u208E\u2100-\u214F\u2190-\u21FF\u2200-\u2BFF\u3012\u30FB\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65\uFF65])re");
  d("ACRONYM_NEXT",
    R"re(([A]bout|[A]ccording|[A]dditionally|[A]fter|[A]n|[A]|[A]s|[A]t|[B]ut|[E]arlier|[H]e|[H]er|[H]ere|[H]owever|[I]f|[I]n|[I]t|[L]ast|[M]any|[M]ore|[M]r\.|[M]s\.|[N]ow|[O]nce|[O]ne|[O]ther|[O]ur|[S]he|[S]ince|[S]o|[S]ome|[S]uch|[T]hat|[T]he|[T]heir|[T]hen|[T]here|[T]hese|[T]hey|[T]his|[W]e|[W]hen|[W]hile|[W]hat|[Y]et|[Y]ou|{SGML}))re");
}

const std::vector<Rule>& ptb_rules() {
  using A = Action;
  static const std::vector<Rule> rules = [] {
    std::vector<Rule> r;
    auto add = [&](const char* name, const char* text, const char* look, A a, int keep = 0, const char* lit = "") {
      r.push_back(Rule{name, text, look, a, keep, lit});
    };
    add("c++", R"re(c[+][+])re", "", A::kPlain);
    add("c#", R"re((c|f)#)re", "", A::kPlain);
    add("cannot", "cannot", "", A::kPushback, 3);
    add("'twas", "'twas", "", A::kPushback, 2);  // pushback 3 of 5: keeps "'t"
    add("'tis", "'tis", "", A::kPushback, 2);
    add("gonna", "gonna|gotta|lemme|gimme|wanna", "", A::kPushback, 3);
    add("SGML", "{SGML}", "", A::kSpaceToNbsp);
    add("SPMDASH", "{SPMDASH}", "", A::kDash);
    add("SPAMP", "{SPAMP}", "", A::kAmp);
    add("SPPUNC", "{SPPUNC}", "", A::kPlain);
    add("WORD/REDAUX", "{WORD}", "{REDAUX}", A::kSoftHyphens);
    add("SWORD/SREDAUX", "{SWORD}", "{SREDAUX}", A::kSoftHyphens);
    add("WORD", "{WORD}", "", A::kSoftHyphens);
    add("APOWORD", "{APOWORD}", "", A::kPlain);
    add("APOWORD2", "{APOWORD2}", "[:letter:]", A::kPlain);
    add("FULLURL", "{FULLURL}", "", A::kPlain);
    add("LIKELYURL", "{LIKELYURL}", "", A::kPlain);
    add("EMAIL", "{EMAIL}", "", A::kPlain);
    add("TWITTER", "{TWITTER}", "", A::kPlain);
    add("REDAUX/", "{REDAUX}", "[^A-Za-z]", A::kQuoteRight);
    add("SREDAUX/", "{SREDAUX}", "[^A-Za-z]", A::kQuoteRight);
    add("DATE", "{DATE}", "", A::kPlain);
    add("NUMBER", "{NUMBER}", "", A::kSoftHyphens);
    add("SUBSUPNUM", "{SUBSUPNUM}", "", A::kPlain);
    add("FRAC", "{FRAC}", "", A::kSpaceToNbsp);
    add("FRAC2", "{FRAC2}", "", A::kFraction);
    add("TBSPEC", "{TBSPEC}", "", A::kAmp);
    add("THING3", "{THING3}", "", A::kPlain);
    add("DOLSIGN", "{DOLSIGN}", "", A::kPlain);
    add("DOLSIGN2", "{DOLSIGN2}", "", A::kCurrency);
    add("ACRONYM/", "{ACRONYM}", "({SPACENLS}){ACRONYM_NEXT}{SPACENL}", A::kAcronym);
    add("ABBREV3/", "{ABBREV3}", "{SPACENL}?[:digit:]", A::kTrimTrailingSpace);
    add("pty.", R"re((pt[eyEY]|co)\.)re", "{SPACE}(ltd|lim)", A::kPlain);
    add("ABBREV1/SENTEND", "{ABBREV1}", "{SENTEND}", A::kAbbrevPeriod);
    add("ABBREV1/..", "{ABBREV1}", "[^][^]", A::kPlain);
    add("ABBREV1", "{ABBREV1}", "", A::kAbbrevPeriod);
    add("ABBREV2", "{ABBREV2}", "", A::kPlain);
    add("ABBREV4/", "{ABBREV4}", "{SPACE}", A::kPlain);
    add("ACRO/", "{ACRO}", "{SPACENL}", A::kPlain);
    add("TBSPEC2/", "{TBSPEC2}", "{SPACENL}", A::kPlain);
    add("FILENAME/", "{FILENAME}", R"re(({SPACENL}|[.?!,]))re", A::kPlain);
    add("WORD./", R"re({WORD}\.)re", "{INSENTP}", A::kSoftHyphens);
    add("PHONE", "{PHONE}", "", A::kPhone);
    add("DBLQUOT/", "{DBLQUOT}", "[A-Za-z0-9$]", A::kQuoteLeft);
    add("DBLQUOT", "{DBLQUOT}", "", A::kQuoteRight);
    add("DEL", R"re(\x7f)re", "", A::kSkip);
    add("LESSTHAN", "{LESSTHAN}", "", A::kLessThan);
    add("GREATERTHAN", "{GREATERTHAN}", "", A::kGreaterThan);
    add("SMILEY/", "{SMILEY}", "[^A-Za-z0-9]", A::kParens);
    add("ASIANSMILEY", "{ASIANSMILEY}", "", A::kParens);
    add("{", R"re(\{)re", "", A::kLiteral, 0, "-LCB-");
    add("}", R"re(\})re", "", A::kLiteral, 0, "-RCB-");
    add("[", R"re(\[)re", "", A::kLiteral, 0, "-LSB-");
    add("]", R"re(\])re", "", A::kLiteral, 0, "-RSB-");
    add("(", R"re(\()re", "", A::kLiteral, 0, "-LRB-");
    add(")", R"re(\))re", "", A::kLiteral, 0, "-RRB-");
    add("HYPHENS", "{HYPHENS}", "", A::kHyphens);
    add("LDOTS", "{LDOTS}", "", A::kEllipsis);
    add("FNMARKS", "{FNMARKS}", "", A::kPlain);
    add("ASTS", "{ASTS}", "", A::kPlain);
    add("INSENTP", "{INSENTP}", "", A::kPlain);
    add("?!", "[?!]+", "", A::kPlain);
    add("PERIOD", R"re([.\u00A1\u00BF\u037E\u0589\u061F\u06D4\u0700-\u0702\u07FA\u3002])re", "", A::kPlain);
    add("=", "=", "", A::kPlain);
    add("/", R"re(\/)re", "", A::kPlain);
    add("HTHING./", R"re({HTHING}\.)re", "{INSENTP}", A::kSoftHyphens);
    add("HTHING", "{HTHING}", "", A::kSoftHyphens);
    add("THING./", R"re({THING}\.)re", "{INSENTP}", A::kPlain);
    add("THING", "{THING}", "", A::kPlain);
    add("THINGA./", R"re({THINGA}\.)re", "{INSENTP}", A::kAmp);
    add("THINGA", "{THINGA}", "", A::kAmp);
    add("'/", "'", R"re([A-Za-z][^ \t\n\r\u00A0])re", A::kQuoteLeft);
    add("REDAUX", "{REDAUX}", "", A::kQuoteRight);
    add("SREDAUX", "{SREDAUX}", "", A::kQuoteRight);
    add("QUOTES", "{QUOTES}", "", A::kQuoteRight);
    add("FAKEDUCKFEET", "{FAKEDUCKFEET}", "", A::kPlain);
    add("MISCSYMBOL", "{MISCSYMBOL}", "", A::kPlain);
    add("SPACES", R"re(\0|{SPACES}|[\u200B\u200E-\u200F\uFEFF])re", "", A::kSkip);
    add("NEWLINE", "{NEWLINE}", "", A::kNewline);
    add("&nbsp;", "&nbsp;", "", A::kSkip);
    add("ANY", ".", "", A::kUntokenizable);
    return r;
  }();
  return rules;
}

}  // namespace glamm::ptb::detail
