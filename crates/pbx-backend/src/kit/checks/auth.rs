//! `authenticate`.

use crate::kit::ctx::{CheckResult, Ctx, describe, ensure};

/// Right password → the user; anything else → `Ok(None)`.
pub(super) async fn authenticate(ctx: Ctx) -> CheckResult {
    for (number, group) in [("201", "Alpha"), ("202", "Alpha"), ("301", "Beta")] {
        let user = ctx.user(number).await?;
        ensure!(
            user.number() == number,
            "authenticate({number:?}, <right password>) gave a caller numbered {:?}",
            user.number()
        );
        ensure!(
            user.group().as_str() == group,
            "authenticate({number:?}, <right password>) gave a caller in group {:?}, expected {group:?}",
            user.group().as_str()
        );
        let own = ctx.entity(&user, number).await?;
        ensure!(
            own.kind.as_str() == "extension" && own.id == user.extension(),
            "authenticate({number:?}): the caller's extension id is {}, but get_extensions lists \
             {number} as {} id {}",
            user.extension(),
            own.kind.as_str(),
            own.id
        );
    }

    let refused = [
        ("201", "wrong", "a wrong password"),
        ("201", "", "an empty password"),
        ("201", "ALPHA-201", "the password in other letter case"),
        ("201", "alpha-201 ", "the password with a trailing space"),
        ("201", "alpha-202", "another user's password"),
        ("202", "alpha-201", "another user's password"),
        ("301", "alpha-201", "a password of another group's user"),
        ("299", "alpha-201", "an unknown user name"),
        ("", "", "an empty user name"),
        (
            "203",
            "",
            "an extension without a password (empty password)",
        ),
        ("203", "alpha-201", "an extension without a password"),
        ("600", "", "a queue's number"),
        ("800", "", "an attendant's number"),
    ];
    for (user, password, what) in refused {
        match ctx.backend.authenticate(user, password).await {
            Ok(None) => {}
            Ok(Some(c)) => {
                return Err(format!(
                    "authenticate({user:?}, {password:?}) with {what} should be None, \
                     gave caller {} in group {}",
                    c.number(),
                    c.group()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "authenticate({user:?}, {password:?}) with {what} should be Ok(None) \
                     (refused credentials are no error), got {}",
                    describe(&e)
                ));
            }
        }
    }
    Ok(())
}
