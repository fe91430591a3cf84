"""Build personalised multipart/alternative messages: mailer.mime against EmailMessage.

A 15 KB CSS-inlined HTML body (long lines of style attributes, some non-ASCII) and a 5 KB
text body, with five personal fields, for a series of recipients. Prints µs per message:

  assemble only        mailer.mime.assemble, bodies and headers already personalised
  per recipient        fill the fields (str join), encode To / Message-ID / Date, assemble
  per recipient (skel) the same with BodySkeleton.fill + assemble_encoded: the static
                       text is quoted-printable encoded once per campaign
  EmailMessage         set_content + add_alternative + as_bytes(policy=SMTP), same content

    .venv/bin/python bench/mime_assemble.py [--messages 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import time
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage

from mailer.headers import encode_header, format_address, format_date, make_message_id
from mailer.mime import assemble, assemble_encoded, make_boundary
from mailer.skeleton import BodySkeleton

GOAL_US = 150
SUBJECT = "Coopératives : les nouvelles de mars — 協同組合 — تعاونية"
SENDER = ("Cooperatives Unit", "coop@example.org")
FIELD = "\x00"  # where a personal field goes in the templates below

ARTICLE = (
    '<tr><td class="article" style="padding:24px 32px 8px 32px;background-color:#ffffff;'
    "font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#333333;"
    'text-align:left"><h2 style="margin:0 0 12px 0;font-family:Georgia,serif;font-size:22px;'
    'line-height:28px;color:#1a4d2e;font-weight:normal">{title}</h2><p style="margin:0 0 16px 0;'
    'font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:24px;color:#333333">'
    '{body}</p><table role="presentation" cellpadding="0" cellspacing="0" border="0" '
    'style="border-collapse:collapse;mso-table-lspace:0pt;mso-table-rspace:0pt"><tr>'
    '<td style="border-radius:4px;background-color:#1a4d2e"><a href="https://news.example.org/'
    'r/{index}?u=\x00" target="_blank" style="display:inline-block;padding:10px 20px;'
    "font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#ffffff;text-decoration:none;"
    'border-radius:4px">Lire la suite &rarr;</a></td></tr></table></td></tr>\n'
)
TITLES = [
    "Assemblée générale de la coopérative agricole",
    "Formation : gestion financière des coopératives",
    "Intercambio con la cooperativa de Córdoba",
    "Visite au 協同組合 de Kyoto",
    "Partenariat avec une تعاونية de Tunis",
    "Rapport annuel : résultats et perspectives",
]
PARAGRAPH = (
    "Les membres se sont réunis pour débattre des priorités de l'année : accès au crédit, "
    "formation des élus, et coopération entre régions. Une délégation a présenté les "
    "résultats d'une étude menée auprès de quarante coopératives, dont plusieurs dirigées "
    "par des femmes. "
)


def html_template() -> str:
    head = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width,initial-scale=1"><title>Nouvelles</title></head>\n'
        '<body style="margin:0;padding:0;background-color:#f2f2f2"><table role="presentation" '
        'width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:'
        'collapse;background-color:#f2f2f2"><tr><td align="center" style="padding:24px 0">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="width:600px;max-width:600px;border-collapse:collapse;background-color:#ffffff">\n'
        '<tr><td style="padding:32px;font-family:Helvetica,Arial,sans-serif;font-size:16px;'
        'line-height:24px;color:#333333">Bonjour \x00,</td></tr>\n'
    )
    articles = []
    index = 0
    while len(head) + sum(map(len, articles)) < 14_000:
        title = TITLES[index % len(TITLES)]
        articles.append(ARTICLE.format(title=title, body=PARAGRAPH * 2, index=index))
        index += 1
    foot = (
        '<tr><td style="padding:24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:12px;'
        'line-height:18px;color:#888888;text-align:center">Vous recevez ce message en tant que '
        'membre. <a href="https://news.example.org/u/\x00" style="color:#888888">Se '
        'désabonner</a> · <a href="https://news.example.org/v/\x00" style="color:#888888">'
        "Voir en ligne</a></td></tr></table></td></tr></table></body></html>\n"
    )
    return head + "".join(articles) + foot


def text_template() -> str:
    lines = ["Bonjour \x00,", ""]
    words = (PARAGRAPH * 2).split()
    while sum(map(len, lines)) < 4_800:
        line: list[str] = []
        for word in words:
            if sum(map(len, line)) + len(line) + len(word) > 72:
                lines.append(" ".join(line))
                line = []
            line.append(word)
        lines += [" ".join(line), ""]
    lines += ["Se désabonner : https://news.example.org/u/\x00", ""]
    return "\n".join(lines)


def recipients(count: int) -> list[tuple[str, str, str]]:
    names = ["Anne Martin", "Zoë Dupont", "José Núñez", "山田 太郎", "ليلى حداد", "Ian O'Neil"]
    return [
        (names[index % len(names)], f"member{index}@coop{index % 97}.example.org", f"t{index:08x}")
        for index in range(count)
    ]


def fields(name: str, token: str, gaps: int) -> list[str]:
    return [name if index == 0 else token for index in range(gaps)]


def fill(template: str, values: list[str]) -> str:
    segments = template.split(FIELD)
    joined = [segments[0]]
    for value, segment in zip(values, segments[1:], strict=True):
        joined += (value, segment)
    return "".join(joined)


def best_us_per_message(build: Callable[[int], bytes], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for index in range(count):
            build(index)
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    html, text = html_template(), text_template()
    html_gaps, text_gaps = html.count(FIELD), text.count(FIELD)
    people = recipients(args.messages)
    subject = encode_header(name="Subject", value=SUBJECT)
    sender = format_address(name=SENDER[0], address=SENDER[1])
    boundary = make_boundary()
    html_skeleton = BodySkeleton.prepare(segments=html.split(FIELD))
    text_skeleton = BodySkeleton.prepare(segments=text.split(FIELD))

    def headers(index: int) -> list[tuple[str, str]]:
        name, address, token = people[index]
        return [
            ("From", sender),
            ("To", format_address(name=name, address=address)),
            ("Subject", subject),
            ("Date", format_date()),
            ("Message-ID", make_message_id(domain="example.org")),
            ("List-Unsubscribe", f"<https://news.example.org/u/{token}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]

    fixed_headers = headers(0)
    bodies = [
        (fill(text, fields(name, token, text_gaps)), fill(html, fields(name, token, html_gaps)))
        for name, _, token in people
    ]

    def assemble_only(index: int) -> bytes:
        plain, rich = bodies[index]
        return assemble(headers=fixed_headers, text=plain, html=rich, boundary=boundary)

    def per_recipient(index: int) -> bytes:
        name, _, token = people[index]
        return assemble(
            headers=headers(index),
            text=fill(text, fields(name, token, text_gaps)),
            html=fill(html, fields(name, token, html_gaps)),
            boundary=boundary,
        )

    def per_recipient_skeleton(index: int) -> bytes:
        name, _, token = people[index]
        return assemble_encoded(
            headers=headers(index),
            text=text_skeleton.fill(values=fields(name, token, text_gaps)),
            html=html_skeleton.fill(values=fields(name, token, html_gaps)),
            boundary=boundary,
        )

    def email_message(index: int) -> bytes:
        name, address, token = people[index]
        message = EmailMessage()
        message["From"] = Address(SENDER[0], addr_spec=SENDER[1])
        message["To"] = Address(name, addr_spec=address)
        message["Subject"] = SUBJECT
        message["Date"] = email.utils.format_datetime(email.utils.localtime())
        message["Message-ID"] = email.utils.make_msgid(domain="example.org")
        message["List-Unsubscribe"] = f"<https://news.example.org/u/{token}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(fill(text, fields(name, token, text_gaps)), cte="quoted-printable")
        message.add_alternative(
            fill(html, fields(name, token, html_gaps)), subtype="html", cte="quoted-printable"
        )
        return message.as_bytes(policy=email.policy.SMTP)

    # The three builds must agree on what the recipient reads.
    for build in (per_recipient, per_recipient_skeleton, email_message):
        parsed = email.message_from_bytes(build(3), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        contents = [part.get_content() for part in parsed.iter_parts()]
        assert contents == [body.replace("\n", "\r\n") for body in bodies[3]], build.__name__
        assert str(parsed["Subject"]) == SUBJECT

    sizes = len(html.encode()), len(text.encode())
    print(
        f"bodies               html {sizes[0]:,} B, text {sizes[1]:,} B, {html_gaps + text_gaps}"
        f" personal fields; {args.messages:,} messages, best of {args.repeat}"
    )
    ours, theirs = len(per_recipient(0)), len(email_message(0))
    print(f"message size         {ours:,} B (EmailMessage {theirs:,} B)")
    only = best_us_per_message(assemble_only, args.messages, args.repeat)
    full = best_us_per_message(per_recipient, args.messages, args.repeat)
    skeleton = best_us_per_message(per_recipient_skeleton, args.messages, args.repeat)
    reference = best_us_per_message(email_message, max(args.messages // 10, 50), args.repeat)
    print(f"assemble only        {only:>8.1f} µs/message")
    print(f"per recipient        {full:>8.1f} µs/message  (fields, To, Message-ID, Date, assemble)")
    print(
        f"per recipient (skel) {skeleton:>8.1f} µs/message  (BodySkeleton.fill, assemble_encoded)"
    )
    print(f"EmailMessage         {reference:>8.1f} µs/message")
    print(
        f"ratio vs EmailMessage {reference / full:>7.1f} x per recipient, "
        f"{reference / skeleton:.1f} x with the skeleton"
    )
    for label, value in (("per recipient", full), ("with the skeleton", skeleton)):
        verdict = "met" if value <= GOAL_US else "MISSED"
        print(f"goal                 <= {GOAL_US} µs {label}: {verdict}")


if __name__ == "__main__":
    main()
