//! Does a package hold the file its handler names? Checked on the create form before a
//! function is made from an uploaded package (a zip made for another handler would be
//! created and then fail on every invocation with `Runtime.ImportModuleError`), and shown as
//! a warning on the Code and Configuration tabs. Java handlers are checked when the class
//! is in the archive itself (not in `lib/*.jar`).

/// Why the handler will not be found in a package with these files, with a suggestion; `None`
/// if it will (or this runtime's handler cannot be checked).
pub fn problem(runtime: &str, handler: &str, files: &[String]) -> Option<String> {
    let has = |p: &str| files.iter().any(|f| f == p);
    let (module, function) = handler.rsplit_once('.').unwrap_or((handler, ""));
    let top = |ext: &[&str]| -> Vec<String> {
        files
            .iter()
            .filter(|f| !f.contains('/') && ext.iter().any(|e| f.ends_with(e)))
            .take(5)
            .cloned()
            .collect()
    };
    let suggest = |found: Vec<String>, strip: &dyn Fn(&str) -> String| -> String {
        match found.first() {
            Some(f) => format!(
                " Files at the top of the package: {}. If {f} holds the function, the handler is {}{}.",
                found.join(", "),
                strip(f),
                if function.is_empty() { String::new() } else { format!(".{function}") }
            ),
            None => " The package has no such file at its top level: zip the files themselves, not the folder that holds them.".into(),
        }
    };
    if runtime.starts_with("python") {
        let path = module.replace('.', "/");
        if has(&format!("{path}.py")) || has(&format!("{path}/__init__.py")) {
            return None;
        }
        Some(format!(
            "The package has no {path}.py, which the handler {handler} needs.{}",
            suggest(top(&[".py"]), &|f| f.trim_end_matches(".py").to_string())
        ))
    } else if runtime.starts_with("nodejs") {
        if [".js", ".mjs", ".cjs"]
            .iter()
            .any(|e| has(&format!("{module}{e}")))
        {
            return None;
        }
        Some(format!(
            "The package has no {module}.js, {module}.mjs or {module}.cjs, which the handler {handler} needs.{}",
            suggest(top(&[".js", ".mjs", ".cjs"]), &|f| {
                f.rsplit_once('.').map_or(f, |(b, _)| b).to_string()
            })
        ))
    } else if runtime.starts_with("ruby") {
        let file = handler.split('.').next().unwrap_or_default();
        if has(&format!("{file}.rb")) {
            return None;
        }
        let function = handler.split_once('.').map_or("", |(_, f)| f);
        let found = top(&[".rb"]);
        Some(format!(
            "The package has no {file}.rb, which the handler {handler} needs.{}",
            match found.first() {
                Some(f) => format!(
                    " Files at the top of the package: {}. If {f} holds the method, the handler is {}.{function}.",
                    found.join(", "),
                    f.trim_end_matches(".rb")
                ),
                None => " The package has no .rb file at its top level.".into(),
            }
        ))
    } else if runtime.starts_with("provided") {
        if has("bootstrap") {
            return None;
        }
        Some("The package has no executable named bootstrap at its top level, which a custom runtime starts. Zip your program under that name.".into())
    } else if runtime.starts_with("java") {
        let class = handler
            .split("::")
            .next()
            .unwrap_or_default()
            .replace('.', "/");
        if files
            .iter()
            .any(|f| f.starts_with("lib/") && f.ends_with(".jar"))
            || has(&format!("{class}.class"))
        {
            return None;
        }
        Some(format!(
            "The archive has no {class}.class, which the handler {handler} names. Check the package and class name (package.Class::method)."
        ))
    } else {
        None
    }
}

/// Largest package read to check its handler on the Code and Configuration tabs.
pub const MAX_CHECKED_PACKAGE: u64 = 50 * 1024 * 1024;

/// [`problem`] for a stored version's package (`None` also when it cannot be read).
pub async fn of_version(
    app: &super::App,
    v: &crate::domain::function::FunctionVersion,
) -> Option<String> {
    if v.code_size > MAX_CHECKED_PACKAGE || v.config.package_type != "Zip" {
        return None;
    }
    let zip = crate::services::functions::code_bytes(&app.ctx, v.code_sha256.clone())
        .await
        .ok()??;
    let (runtime, handler) = (v.config.runtime.clone(), v.config.handler.clone());
    actix_web::web::block(move || {
        let files = super::zipedit::file_names(&zip).ok()?;
        problem(&runtime, &handler, &files)
    })
    .await
    .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn handlers_are_checked_against_the_files() {
        let py = files(&["app.py", "util/__init__.py", "util/x.py"]);
        assert!(problem("python3.12", "app.handler", &py).is_none());
        assert!(problem("python3.12", "util.x.run", &py).is_none());
        assert!(
            problem("python3.12", "util.run", &py).is_none(),
            "a package"
        );
        let p = problem("python3.12", "lambda_function.lambda_handler", &py).unwrap();
        assert!(p.contains("no lambda_function.py"), "{p}");
        assert!(p.contains("the handler is app.lambda_handler"), "{p}");
        let folder = files(&["src/app.py"]);
        assert!(problem("python3.12", "app.h", &folder)
            .unwrap()
            .contains("not the folder"));
        assert!(problem("nodejs20.x", "index.handler", &files(&["index.mjs"])).is_none());
        assert!(problem("nodejs20.x", "index.handler", &files(&["main.js"]))
            .unwrap()
            .contains("the handler is main.handler"));
        assert!(problem("ruby3.3", "app.Shop::Orders.process", &files(&["app.rb"])).is_none());
        assert!(problem("provided.al2023", "x", &files(&["bootstrap"])).is_none());
        assert!(problem("provided.al2023", "x", &files(&["main"])).is_some());
        assert!(problem("java21", "example.H::run", &files(&["example/H.class"])).is_none());
        assert!(problem("java21", "example.H::run", &files(&["lib/a.jar"])).is_none());
        assert!(problem("java21", "example.H::run", &files(&["x/Y.class"])).is_some());
    }
}
