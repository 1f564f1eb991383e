//! Range checks of the numeric fields of a cron expression, before the
//! `cron` crate sees them: its own messages are off by one ("Minutes must be
//! less than 59", although 59 is valid) and name its 6-field form, not what
//! the operator wrote. Day-of-week has its own parser in
//! [`super::schedule`].

/// One field of an expression: its name as an operator says it, and the
/// values it takes.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub lo: u32,
    pub hi: u32,
    /// Extra text after the range (e.g. month names).
    pub hint: &'static str,
}

pub const SECOND: Field = Field {
    name: "second",
    lo: 0,
    hi: 59,
    hint: "",
};
pub const MINUTE: Field = Field {
    name: "minute",
    lo: 0,
    hi: 59,
    hint: "",
};
pub const HOUR: Field = Field {
    name: "hour",
    lo: 0,
    hi: 23,
    hint: "",
};
pub const DAY_OF_MONTH: Field = Field {
    name: "day of month",
    lo: 1,
    hi: 31,
    hint: "",
};
pub const MONTH: Field = Field {
    name: "month",
    lo: 1,
    hi: 12,
    hint: " or JAN–DEC",
};

/// Check every number written in `text` (lists, ranges, steps) against
/// `field`'s range. Names and anything else non-numeric are left to the
/// `cron` crate, which knows them.
pub fn check(field: Field, text: &str) -> Result<(), String> {
    for item in text.split(',') {
        let (base, step) = match item.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(0) => {
                    return Err(format!(
                        "{} step in `{item}` must be at least 1",
                        field.name
                    ));
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(format!(
                        "{} step `{step}` in `{item}` is not a number",
                        field.name
                    ));
                }
            }
        }
        let ends = match base.split_once('-') {
            Some((a, b)) => vec![a, b],
            None => vec![base],
        };
        for end in ends {
            in_range(field, end)?;
        }
    }
    Ok(())
}

fn in_range(field: Field, value: &str) -> Result<(), String> {
    let Ok(n) = value.parse::<u64>() else {
        return Ok(());
    };
    if n < u64::from(field.lo) || n > u64::from(field.hi) {
        return Err(format!(
            "{} `{n}` is out of range: {} must be {}–{}{}",
            field.name, field.name, field.lo, field.hi, field.hint
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_is_checked_and_the_bounds_are_valid() {
        assert!(check(MINUTE, "59").is_ok());
        assert!(check(MINUTE, "0-59/5,7").is_ok());
        assert!(check(MINUTE, "*/15").is_ok());
        assert!(check(MONTH, "JAN-MAR").is_ok());
        let e = check(MINUTE, "60").unwrap_err();
        assert_eq!(e, "minute `60` is out of range: minute must be 0–59");
        assert!(
            check(HOUR, "9-24")
                .unwrap_err()
                .contains("hour must be 0–23")
        );
        assert!(
            check(DAY_OF_MONTH, "0")
                .unwrap_err()
                .contains("day of month must be 1–31")
        );
        assert!(
            check(MONTH, "1,13")
                .unwrap_err()
                .contains("month must be 1–12 or JAN–DEC")
        );
        assert!(check(SECOND, "*/0").unwrap_err().contains("at least 1"));
    }
}
