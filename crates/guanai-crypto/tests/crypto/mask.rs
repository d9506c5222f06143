//! Display masking examples.

use guanai_crypto::mask;

#[test]
fn a_mobile_number_keeps_its_first_three_and_last_four_digits() {
    assert_eq!(mask::phone("13812345678"), "138****5678");
    assert_eq!(mask::phone("138 1234 5678"), "138****5678");
    assert_eq!(mask::phone("010-12345678"), "010****5678");
}

#[test]
fn other_phone_lengths_keep_at_most_three_and_two() {
    assert_eq!(mask::phone("+8613812345678"), "+86*********78");
    assert_eq!(mask::phone("87654321"), "87****21");
    assert_eq!(mask::phone("12345"), "1***5");
    assert_eq!(mask::phone("12"), "**");
    assert_eq!(mask::phone("1"), "*");
    assert_eq!(mask::phone(""), "");
    // Full-width digits are characters, not bytes.
    assert_eq!(mask::phone("１３８１２３４５６７８"), "１３８****５６７８");
}

#[test]
fn a_bank_card_keeps_its_first_and_last_four_digits() {
    assert_eq!(
        mask::bank_account("6222021234567890123"),
        "6222 **** **** 0123"
    );
    assert_eq!(
        mask::bank_account("6222 0212 3456 7890 123"),
        "6222 **** **** 0123"
    );
    assert_eq!(
        mask::bank_account("6228480012345678"),
        "6228 **** **** 5678"
    );
}

#[test]
fn a_short_account_keeps_at_most_a_quarter_at_each_end() {
    assert_eq!(mask::bank_account("12345678901"), "12*******01");
    assert_eq!(mask::bank_account("12345678"), "12****78");
    assert_eq!(mask::bank_account("123"), "***");
    assert_eq!(mask::bank_account(""), "");
}

#[test]
fn a_name_keeps_its_first_character() {
    assert_eq!(mask::name("张三"), "张*");
    assert_eq!(mask::name("欧阳小明"), "欧***");
    assert_eq!(mask::name("李四光"), "李**");
    assert_eq!(mask::name(" 王五 "), "王*");
    assert_eq!(mask::name("阿依古丽·买买提"), "阿*******");
    assert_eq!(mask::name("张"), "张");
    assert_eq!(mask::name(""), "");
}
