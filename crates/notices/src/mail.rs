//! Wording the e-mails, in English, French or Spanish: a plain-text part and an HTML part with the
//! same words, links into the workspace, and no tracking of any kind.

use serde_json::Value;

/// A message ready to send.
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where links point: the workspace's public address, and the message's unsubscribe link.
pub struct Links<'a> {
    pub public_url: &'a str,
    pub unsubscribe: &'a str,
}

/// The words of one language.
struct Words {
    match_subject: &'static str,
    match_body: &'static str,
    duplicate: &'static str,
    possible: &'static str,
    overlap: &'static str,
    review_subject: &'static str,
    review_body: &'static str,
    secretariat: &'static str,
    decision_duplicate: &'static str,
    decision_not_duplicate: &'static str,
    decision_coordinated: &'static str,
    open: &'static str,
    reminder_subject: &'static str,
    reminder_body: &'static str,
    no_focal_point: &'static str,
    focal_point_unconfirmed: &'static str,
    no_recent_activity: &'static str,
    digest_subject: &'static str,
    digest_subject_one: &'static str,
    digest_body: &'static str,
    reset_subject: &'static str,
    reset_body: &'static str,
    reset_ignore: &'static str,
    footer: &'static str,
    settings: &'static str,
    unsubscribe: &'static str,
}

const EN: Words = Words {
    match_subject: "[ICAT] {agency} records work like yours: {title}",
    match_body: "{agency} has recorded “{other_title}”, which the ICAT Workspace finds {level} your agency's activity “{title}”.\n\nPlease look at both activities and settle the case with {agency} (a duplicate, coordinated work, or not a duplicate).",
    duplicate: "to be a likely duplicate of",
    possible: "to possibly duplicate",
    overlap: "to overlap with",
    review_subject: "[ICAT] A pair with your activity was reviewed: {title}",
    review_body: "{agency} reviewed the pair of your agency's activity “{title}” and “{other_title}”: {decision}.",
    secretariat: "The ICAT secretariat",
    decision_duplicate: "a duplicate",
    decision_not_duplicate: "not a duplicate",
    decision_coordinated: "coordinated work",
    open: "Open in the workspace",
    reminder_subject: "[ICAT] A reminder from the ICAT secretariat for {agency}",
    reminder_body: "The ICAT secretariat reminds {agency} of what the General Assembly asks of every member:",
    no_focal_point: "designate a focal point for coordination (paragraph 9): {agency} has no current primary focal point.",
    focal_point_unconfirmed: "confirm the focal point's details: they have not been confirmed for twelve months.",
    no_recent_activity: "record your anti-trafficking activities (paragraph 8): none was recorded in twelve months.",
    digest_subject: "[ICAT] {count} new notices in the ICAT Workspace",
    digest_subject_one: "[ICAT] A new notice in the ICAT Workspace",
    digest_body: "Since the last digest, the ICAT Workspace has these notices for you:",
    reset_subject: "[ICAT] Choose a new password for the ICAT Workspace",
    reset_body: "Someone, we hope you, asked to choose a new password for the account {email} in the ICAT Workspace. The link below works once, for {minutes} minutes.",
    reset_ignore: "If you did not ask, ignore this e-mail: your password stays as it is.",
    footer: "You receive this e-mail as an editor or focal point of your agency in the ICAT Workspace.",
    settings: "Choose how you hear of notices",
    unsubscribe: "Unsubscribe from these e-mails",
};

const FR: Words = Words {
    match_subject: "[ICAT] {agency} enregistre un travail semblable au vôtre : {title}",
    match_body: "{agency} a enregistré « {other_title} », que l'espace de travail de l'ICAT juge {level} l'activité de votre organisme « {title} ».\n\nVeuillez examiner les deux activités et régler le cas avec {agency} (doublon, travail coordonné ou pas un doublon).",
    duplicate: "probablement en double avec",
    possible: "peut-être en double avec",
    overlap: "en chevauchement avec",
    review_subject: "[ICAT] Une paire avec votre activité a été examinée : {title}",
    review_body: "{agency} a examiné la paire formée par l'activité de votre organisme « {title} » et « {other_title} » : {decision}.",
    secretariat: "Le secrétariat de l'ICAT",
    decision_duplicate: "un doublon",
    decision_not_duplicate: "pas un doublon",
    decision_coordinated: "un travail coordonné",
    open: "Ouvrir dans l'espace de travail",
    reminder_subject: "[ICAT] Un rappel du secrétariat de l'ICAT pour {agency}",
    reminder_body: "Le secrétariat de l'ICAT rappelle à {agency} ce que l'Assemblée générale demande à chaque membre :",
    no_focal_point: "désigner un point focal pour la coordination (paragraphe 9) : {agency} n'a pas de point focal principal en fonction.",
    focal_point_unconfirmed: "confirmer les coordonnées du point focal : elles n'ont pas été confirmées depuis douze mois.",
    no_recent_activity: "enregistrer vos activités de lutte contre la traite (paragraphe 8) : aucune n'a été enregistrée depuis douze mois.",
    digest_subject: "[ICAT] {count} nouveaux avis dans l'espace de travail de l'ICAT",
    digest_subject_one: "[ICAT] Un nouvel avis dans l'espace de travail de l'ICAT",
    digest_body: "Depuis le dernier récapitulatif, l'espace de travail de l'ICAT a ces avis pour vous :",
    reset_subject: "[ICAT] Choisir un nouveau mot de passe pour l'espace de travail de l'ICAT",
    reset_body: "Quelqu'un, vous sans doute, a demandé à choisir un nouveau mot de passe pour le compte {email} dans l'espace de travail de l'ICAT. Le lien ci-dessous fonctionne une fois, pendant {minutes} minutes.",
    reset_ignore: "Si vous n'avez rien demandé, ignorez ce courriel : votre mot de passe reste le même.",
    footer: "Vous recevez ce courriel en tant que rédacteur ou point focal de votre organisme dans l'espace de travail de l'ICAT.",
    settings: "Choisir comment vous êtes averti",
    unsubscribe: "Se désabonner de ces courriels",
};

const ES: Words = Words {
    match_subject: "[ICAT] {agency} registra un trabajo similar al suyo: {title}",
    match_body: "{agency} ha registrado «{other_title}», que el espacio de trabajo del ICAT considera {level} la actividad de su organismo «{title}».\n\nRevise ambas actividades y resuelva el caso con {agency} (duplicado, trabajo coordinado o no es un duplicado).",
    duplicate: "un probable duplicado de",
    possible: "un posible duplicado de",
    overlap: "superpuesta con",
    review_subject: "[ICAT] Se revisó un par con su actividad: {title}",
    review_body: "{agency} revisó el par formado por la actividad de su organismo «{title}» y «{other_title}»: {decision}.",
    secretariat: "La secretaría del ICAT",
    decision_duplicate: "un duplicado",
    decision_not_duplicate: "no es un duplicado",
    decision_coordinated: "trabajo coordinado",
    open: "Abrir en el espacio de trabajo",
    reminder_subject: "[ICAT] Un recordatorio de la secretaría del ICAT para {agency}",
    reminder_body: "La secretaría del ICAT recuerda a {agency} lo que la Asamblea General pide a cada miembro:",
    no_focal_point: "designar un punto focal para la coordinación (párrafo 9): {agency} no tiene un punto focal principal vigente.",
    focal_point_unconfirmed: "confirmar los datos del punto focal: no se han confirmado en doce meses.",
    no_recent_activity: "registrar sus actividades contra la trata (párrafo 8): no se registró ninguna en doce meses.",
    digest_subject: "[ICAT] {count} avisos nuevos en el espacio de trabajo del ICAT",
    digest_subject_one: "[ICAT] Un aviso nuevo en el espacio de trabajo del ICAT",
    digest_body: "Desde el último resumen, el espacio de trabajo del ICAT tiene estos avisos para usted:",
    reset_subject: "[ICAT] Elegir una nueva contraseña para el espacio de trabajo del ICAT",
    reset_body: "Alguien, esperamos que usted, pidió elegir una nueva contraseña para la cuenta {email} en el espacio de trabajo del ICAT. El enlace de abajo funciona una vez, durante {minutes} minutos.",
    reset_ignore: "Si no lo pidió, ignore este correo: su contraseña sigue siendo la misma.",
    footer: "Recibe este correo como editor o punto focal de su organismo en el espacio de trabajo del ICAT.",
    settings: "Elegir cómo recibe los avisos",
    unsubscribe: "Darse de baja de estos correos",
};

fn words(language: &str) -> &'static Words {
    match language {
        "fr" => &FR,
        "es" => &ES,
        _ => &EN,
    }
}

fn text(p: &Value, key: &str) -> String {
    p[key].as_str().unwrap_or_default().to_owned()
}

/// Replaces each `{name}` of `template`.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |out, (k, v)| {
        out.replace(&format!("{{{k}}}"), v)
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The subject and lines of one notice, and the workspace address it points to.
fn notice(w: &Words, kind: &str, p: &Value) -> (String, Vec<String>, String) {
    let title = text(p, "title");
    let other_title = text(p, "other_title");
    let activity = format!("#/activities/{}", text(p, "activity_id"));
    match kind {
        "match" => {
            let agency = text(p, "other_agency");
            let level = match p["level"].as_str() {
                Some("duplicate") => w.duplicate,
                Some("possible") => w.possible,
                _ => w.overlap,
            };
            let values = [
                ("agency", agency.as_str()),
                ("title", title.as_str()),
                ("other_title", other_title.as_str()),
                ("level", level),
            ];
            (
                fill(w.match_subject, &values),
                fill(w.match_body, &values)
                    .split("\n\n")
                    .map(str::to_owned)
                    .collect(),
                activity,
            )
        }
        "review" => {
            let agency = if p["by_secretariat"].as_bool().unwrap_or(false) {
                w.secretariat.to_owned()
            } else {
                text(p, "other_agency")
            };
            let decision = match p["decision"].as_str() {
                Some("duplicate") => w.decision_duplicate,
                Some("not_duplicate") => w.decision_not_duplicate,
                _ => w.decision_coordinated,
            };
            let values = [
                ("agency", agency.as_str()),
                ("title", title.as_str()),
                ("other_title", other_title.as_str()),
                ("decision", decision),
            ];
            (
                fill(w.review_subject, &values),
                vec![fill(w.review_body, &values)],
                activity,
            )
        }
        _ => {
            let agency = text(p, "agency");
            let values = [("agency", agency.as_str())];
            let mut lines = vec![fill(w.reminder_body, &values)];
            for reason in p["reasons"].as_array().into_iter().flatten() {
                let line = match reason.as_str() {
                    Some("no_focal_point") => w.no_focal_point,
                    Some("focal_point_unconfirmed") => w.focal_point_unconfirmed,
                    _ => w.no_recent_activity,
                };
                lines.push(format!("- {}", fill(line, &values)));
            }
            if let Some(note) = p["note"].as_str().filter(|n| !n.is_empty()) {
                lines.push(note.to_owned());
            }
            (
                fill(w.reminder_subject, &values),
                lines,
                "#/directory".into(),
            )
        }
    }
}

/// Words the e-mail of an outbox row: `kind` is `match`, `review`, `reminder` or `digest` (whose
/// `params.items` are notices' params).
pub fn compose(kind: &str, language: &str, params: &Value, links: &Links) -> Composed {
    let w = words(language);
    if kind == "password_reset" {
        return reset(w, params);
    }
    let base = links.public_url.trim_end_matches('/');
    let (subject, blocks) = if kind == "digest" {
        let items = params["items"].as_array().cloned().unwrap_or_default();
        let count = items.len().to_string();
        let mut blocks = vec![(vec![w.digest_body.to_owned()], None)];
        for item in &items {
            let (subject, _, target) = notice(w, item["kind"].as_str().unwrap_or("match"), item);
            let subject = subject.trim_start_matches("[ICAT] ").to_owned();
            blocks.push((
                vec![format!("- {subject}")],
                Some(format!("{base}/{target}")),
            ));
        }
        let subject = if items.len() == 1 {
            w.digest_subject_one.to_owned()
        } else {
            fill(w.digest_subject, &[("count", &count)])
        };
        (subject, blocks)
    } else {
        let (subject, lines, target) = notice(w, kind, params);
        (subject, vec![(lines, Some(format!("{base}/{target}")))])
    };
    let settings = format!("{base}/#/account");
    let mut text = String::new();
    let mut html = String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
    for (lines, link) in &blocks {
        for line in lines {
            text.push_str(line);
            text.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>", escape(line)));
        }
        if let Some(link) = link {
            text.push_str(&format!("{}: {link}\n\n", w.open));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(link),
                escape(w.open)
            ));
        }
    }
    text.push_str(&format!(
        "--\n{}\n{}: {settings}\n{}: {}\n",
        w.footer, w.settings, w.unsubscribe, links.unsubscribe
    ));
    html.push_str(&format!(
        "<hr><p style=\"font-size:small\">{}<br><a href=\"{}\">{}</a> · <a href=\"{}\">{}</a></p></body></html>",
        escape(w.footer),
        escape(&settings),
        escape(w.settings),
        escape(links.unsubscribe),
        escape(w.unsubscribe)
    ));
    Composed {
        subject,
        text,
        html,
    }
}

/// A reset link: to the account's own address, with no list footer (it is no notice to
/// unsubscribe from).
fn reset(w: &Words, p: &Value) -> Composed {
    let url = text(p, "url");
    let minutes = p["minutes"].as_i64().unwrap_or(30).to_string();
    let body = fill(
        w.reset_body,
        &[("email", &text(p, "email")), ("minutes", &minutes)],
    );
    Composed {
        subject: w.reset_subject.to_owned(),
        text: format!("{body}\n\n{url}\n\n{}\n", w.reset_ignore),
        html: format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{}</p><p><a href=\"{}\">{}</a></p><p>{}</p></body></html>",
            escape(&body),
            escape(&url),
            escape(&url),
            escape(w.reset_ignore)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_match_is_worded_in_each_language_and_escaped_in_html() {
        let p = json!({
            "title": "Training <judges>", "other_title": "Judges & prosecutors",
            "other_agency": "IOM", "level": "duplicate", "activity_id": "a1",
        });
        let links = Links {
            public_url: "https://icat.example.org/",
            unsubscribe: "https://icat.example.org/api/v1/unsubscribe?token=t",
        };
        let en = compose("match", "en", &p, &links);
        assert_eq!(
            en.subject,
            "[ICAT] IOM records work like yours: Training <judges>"
        );
        assert!(en.text.contains("likely duplicate of"), "{}", en.text);
        assert!(
            en.text.contains("https://icat.example.org/#/activities/a1"),
            "{}",
            en.text
        );
        assert!(en.html.contains("Training &lt;judges&gt;"), "{}", en.html);
        assert!(en.html.contains("Judges &amp; prosecutors"), "{}", en.html);
        assert!(!en.html.contains("<judges>"));
        let fr = compose("match", "fr", &p, &links);
        assert!(fr.subject.contains("enregistre un travail semblable"));
        let es = compose("match", "es", &p, &links);
        assert!(es.text.contains("probable duplicado"), "{}", es.text);
        assert!(es.text.contains("token=t"));
    }

    #[test]
    fn a_digest_lists_each_notice_with_its_link() {
        let item = json!({"kind": "match", "title": "A", "other_title": "B", "other_agency": "ILO",
            "level": "possible", "activity_id": "x"});
        let p = json!({ "items": [item.clone(), item] });
        let links = Links {
            public_url: "http://w",
            unsubscribe: "http://w/u",
        };
        let m = compose("digest", "en", &p, &links);
        assert_eq!(m.subject, "[ICAT] 2 new notices in the ICAT Workspace");
        assert_eq!(m.text.matches("http://w/#/activities/x").count(), 2);
    }
}
