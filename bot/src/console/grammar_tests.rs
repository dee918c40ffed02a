use proptest::prelude::*;

use super::*;

fn line(text: &str) -> ConsoleLine {
    parse_line(text).expect(text).expect("a command line")
}

fn problem(text: &str) -> GrammarError {
    parse_line(text).expect_err(text)
}

fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn a_user_without_a_role_acts_as_a_user() {
    let l = line("alice /myvm");
    assert_eq!(l.user.as_str(), "alice");
    assert_eq!(l.role, Role::User);
    assert_eq!(l.command, "myvm");
    assert!(l.path.is_empty() && l.options.is_empty());
}

#[test]
fn a_role_after_a_colon_is_read() {
    assert_eq!(line("tom:teacher /class list").role, Role::Teacher);
    assert_eq!(line("ada:adminer /cluster list").role, Role::Adminer);
    assert_eq!(line("sam:user /myvm").role, Role::User);
}

#[test]
fn a_subcommand_group_and_a_subcommand_come_before_the_options() {
    let l = line("tom:teacher /class coowner add class:net101 user:bob");
    assert_eq!(l.command, "class");
    assert_eq!(l.path, ["coowner", "add"]);
    assert_eq!(l.options, opts(&[("class", "net101"), ("user", "bob")]));
}

#[test]
fn a_quoted_value_keeps_its_spaces_and_escapes() {
    let l = line(r#"tom:teacher /class create name:"Networks \"A\" 101" note:"C:\\lab""#);
    assert_eq!(
        l.options,
        opts(&[("name", "Networks \"A\" 101"), ("note", "C:\\lab")])
    );
}

#[test]
fn a_bare_value_may_hold_colons() {
    let l = line("tom:teacher /class settings class:net101 hours:08:00-18:00");
    assert_eq!(l.options[1], ("hours".to_owned(), "08:00-18:00".to_owned()));
}

#[test]
fn a_hash_outside_quotes_starts_a_comment_and_inside_quotes_does_not() {
    let l = line(r#"alice /join token:abc # from the whiteboard"#);
    assert_eq!(l.options, opts(&[("token", "abc")]));
    let l = line(r##"tom:teacher /class create name:"Lab #1""##);
    assert_eq!(l.options, opts(&[("name", "Lab #1")]));
}

#[test]
fn blank_and_comment_only_lines_are_skipped() {
    for text in ["", "   ", "\t", "# a comment", "   # indented comment"] {
        assert_eq!(parse_line(text), Ok(None), "{text:?}");
    }
}

#[test]
fn names_are_read_in_lower_case_as_discord_does() {
    let l = line("alice /MyVM Class:Net101");
    assert_eq!(l.command, "myvm");
    assert_eq!(l.options, opts(&[("class", "Net101")]));
}

#[test]
fn an_option_without_a_value_names_the_option_and_its_column() {
    let e = problem("tom:teacher /class create name:net101 pool:");
    assert_eq!(e.column, 39);
    assert_eq!(
        e.to_string(),
        "column 39: option `pool` has no value (write pool:VALUE)"
    );
    assert_eq!(
        problem("tom:teacher /class create pool: name:x").problem,
        Problem::OptionWithoutValue("pool".into())
    );
}

#[test]
fn an_unknown_role_lists_the_three_roles() {
    let e = problem("ada:admin /cluster list");
    assert_eq!(e.column, 5);
    assert_eq!(
        e.problem.to_string(),
        "unknown role `admin` (user, teacher or adminer)"
    );
}

#[test]
fn an_unterminated_quote_points_at_the_opening_quote() {
    let e = problem(r#"tom:teacher /class create name:"Networks 101"#);
    assert_eq!(e.problem, Problem::UnterminatedQuote);
    assert_eq!(e.column, 32);
    assert!(e.to_string().contains("unterminated quote"));
}

#[test]
fn an_option_given_twice_is_refused_at_its_second_place() {
    let e = problem("alice /myvm class:a class:b");
    assert_eq!(e.problem, Problem::OptionTwice("class".into()));
    assert_eq!(e.column, 21);
}

#[test]
fn a_user_name_with_other_characters_is_refused() {
    let e = problem("al!ce /myvm");
    assert_eq!(e.column, 1);
    assert!(matches!(e.problem, Problem::BadUser(ref u) if u == "al!ce"));
}

#[test]
fn a_line_with_a_user_but_no_command_says_so() {
    assert_eq!(problem("alice").problem, Problem::MissingCommand);
    assert_eq!(
        problem("alice # just a name").problem,
        Problem::MissingCommand
    );
}

#[test]
fn a_command_without_its_slash_suggests_the_slash() {
    let e = problem("alice myvm");
    assert_eq!(e.column, 7);
    assert!(e.to_string().contains("(write /myvm)"), "{e}");
}

#[test]
fn a_word_after_options_or_a_third_subcommand_word_is_stray() {
    assert_eq!(
        problem("alice /vm class:a start").problem,
        Problem::StrayWord("start".into())
    );
    assert_eq!(
        problem("tom:teacher /class coowner add bob").problem,
        Problem::StrayWord("bob".into())
    );
}

#[test]
fn misplaced_quotes_and_unknown_escapes_are_refused() {
    assert_eq!(
        problem(r#"alice /join token:ab"c""#).problem,
        Problem::MisplacedQuote
    );
    assert_eq!(
        problem(r#"alice /join token:"abc"def"#).problem,
        Problem::MisplacedQuote
    );
    assert_eq!(
        problem(r#"alice /join token:"a\nb""#).problem,
        Problem::UnknownEscape('n')
    );
    assert_eq!(
        problem(r#"alice /join :abc"#).problem,
        Problem::OptionWithoutName
    );
}

#[test]
fn printing_a_line_quotes_only_what_needs_quotes() {
    let l = line(r#"tom:teacher /class create name:"Lab \"7\"" pool:3 note:"""#);
    assert_eq!(
        l.to_string(),
        r#"tom:teacher /class create name:"Lab \"7\"" pool:3 note:"""#
    );
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,10}"
}

fn line_strategy() -> impl Strategy<Value = ConsoleLine> {
    let user = "[A-Za-z0-9._-]{1,32}".prop_map(|u| ConsoleName::parse(&u).expect("valid"));
    let role = prop::sample::select(Role::ALL.to_vec());
    let options = prop::collection::btree_map(name_strategy(), any::<String>(), 0..5)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (
        user,
        role,
        name_strategy(),
        prop::collection::vec(name_strategy(), 0..=2),
        options,
    )
        .prop_map(|(user, role, command, path, options)| ConsoleLine {
            user,
            role,
            command,
            path,
            options,
        })
}

proptest! {
    #[test]
    fn the_parser_never_panics_on_any_text(text in any::<String>()) {
        let _ = parse_line(&text);
    }

    #[test]
    fn the_parser_never_panics_on_text_that_looks_like_a_command(
        text in r#"[a-z]{1,5}(:[a-z]{0,8})? /[a-z]{1,6}( [a-z:"\\# ]{0,12}){0,5}"#
    ) {
        let _ = parse_line(&text);
    }

    #[test]
    fn a_printed_line_parses_back_to_the_same_line(l in line_strategy()) {
        let printed = l.to_string();
        prop_assert_eq!(parse_line(&printed), Ok(Some(l)), "{}", printed);
    }

    #[test]
    fn whatever_parses_prints_and_parses_back_the_same(text in r#"[a-z]{1,4}(:teacher)? /[a-z]{1,4}( [a-z]{1,3}(:([a-z#]{1,3}|"[a-z \\#]{0,4}"))?){0,4}"#) {
        if let Ok(Some(l)) = parse_line(&text) {
            prop_assert_eq!(parse_line(&l.to_string()), Ok(Some(l)));
        }
    }
}
