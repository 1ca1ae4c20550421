//! The browser front-end, embedded in the binary so a deployment is one file.

use actix_web::HttpResponse;
use actix_web::http::header;

#[derive(rust_embed::RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../../web/"]
struct Web;

/// The embedded file for a request path (`/` is `index.html`), if there is one.
pub fn response(path: &str) -> Option<HttpResponse> {
    let name = match path.trim_start_matches('/') {
        "" => "index.html",
        other => other,
    };
    let file = Web::get(name)?;
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    Some(
        HttpResponse::Ok()
            .content_type(mime.as_ref())
            // Revalidate each time: the files change with every release of the binary.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header(header::ETag(header::EntityTag::new_strong(
                file.metadata
                    .sha256_hash()
                    .iter()
                    .take(12)
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            )))
            .body(file.data.into_owned()),
    )
}
