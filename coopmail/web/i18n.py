# ruff: noqa: RUF001 - French is written with the typographic apostrophe, on purpose
"""The public pages' words in English, French and Spanish, and which language a visitor gets.

A small catalogue in code rather than gettext files: a few dozen strings, checked by the
tests for the same placeholders in every language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("en", "fr", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "fr": "Français", "es": "Español"}

_EN, _FR, _ES = LANGUAGES

CATALOGUE: Mapping[str, Mapping[str, str]] = {
    "skip": {
        _EN: "Skip to the content",
        _FR: "Aller au contenu",
        _ES: "Ir al contenido",
    },
    "language_switch": {
        _EN: "This page in another language",
        _FR: "Cette page dans une autre langue",
        _ES: "Esta página en otro idioma",
    },
    "subscribe_title": {
        _EN: "Subscribe to our news",
        _FR: "Abonnez-vous à nos nouvelles",
        _ES: "Suscríbase a nuestras noticias",
    },
    "subscribe_intro": {
        _EN: "Letters, interviews and news from the {unit}, for cooperatives and their "
        "partners around the world. Choose what you would like to receive.",
        _FR: "Lettres, entretiens et nouvelles de l’équipe {unit}, pour les coopératives et "
        "leurs partenaires dans le monde entier. Choisissez ce que vous souhaitez recevoir.",
        _ES: "Cartas, entrevistas y noticias de la unidad {unit}, para las cooperativas y sus "
        "socios de todo el mundo. Elija lo que desea recibir.",
    },
    "no_public_lists": {
        _EN: "There is no list open for subscription at the moment. Please come back later.",
        _FR: "Aucune liste n’est ouverte aux abonnements pour le moment. Revenez plus tard.",
        _ES: "En este momento no hay ninguna lista abierta a suscripciones. Vuelva más tarde.",
    },
    "field_email": {
        _EN: "Email address",
        _FR: "Adresse e-mail",
        _ES: "Dirección de correo electrónico",
    },
    "field_name": {
        _EN: "Name (optional)",
        _FR: "Nom (facultatif)",
        _ES: "Nombre (opcional)",
    },
    "field_language": {
        _EN: "Preferred language",
        _FR: "Langue préférée",
        _ES: "Idioma preferido",
    },
    "field_lists": {
        _EN: "Lists",
        _FR: "Listes",
        _ES: "Listas",
    },
    "field_honeypot": {
        _EN: "Leave this field empty",
        _FR: "Laissez ce champ vide",
        _ES: "Deje este campo vacío",
    },
    "needs_confirmation": {
        _EN: "we will ask you to confirm by email",
        _FR: "nous vous demanderons de confirmer par e-mail",
        _ES: "le pediremos que lo confirme por correo electrónico",
    },
    "consent_wording": {
        _EN: "I agree that the {unit} may send me the lists I have chosen by email and keep "
        "my address and this consent for that purpose. I can unsubscribe at any time with the "
        "link in every email.",
        _FR: "J’accepte que l’équipe {unit} m’envoie par e-mail les listes que j’ai choisies et "
        "conserve à cette fin mon adresse et ce consentement. Je peux me désabonner à tout "
        "moment grâce au lien présent dans chaque e-mail.",
        _ES: "Acepto que la unidad {unit} me envíe por correo electrónico las listas que he "
        "elegido y conserve para ello mi dirección y este consentimiento. Puedo darme de baja "
        "en cualquier momento con el enlace que figura en cada correo.",
    },
    "subscribe_button": {
        _EN: "Subscribe",
        _FR: "S’abonner",
        _ES: "Suscribirse",
    },
    "privacy_note": {
        _EN: "We use your address only to send you what you chose, and never share it.",
        _FR: "Nous utilisons votre adresse uniquement pour vous envoyer ce que vous avez "
        "choisi, et ne la communiquons jamais.",
        _ES: "Usamos su dirección solo para enviarle lo que ha elegido y nunca la compartimos.",
    },
    "errors_heading": {
        _EN: "Please correct the following:",
        _FR: "Veuillez corriger les points suivants :",
        _ES: "Corrija lo siguiente:",
    },
    "error_email": {
        _EN: "Enter a valid email address, such as name@example.org.",
        _FR: "Saisissez une adresse e-mail valide, par exemple nom@example.org.",
        _ES: "Escriba una dirección de correo válida, por ejemplo nombre@example.org.",
    },
    "error_name": {
        _EN: "The name is too long or contains characters that are not allowed.",
        _FR: "Le nom est trop long ou contient des caractères non autorisés.",
        _ES: "El nombre es demasiado largo o contiene caracteres no permitidos.",
    },
    "error_language": {
        _EN: "Choose one of the languages offered.",
        _FR: "Choisissez l’une des langues proposées.",
        _ES: "Elija uno de los idiomas propuestos.",
    },
    "error_lists": {
        _EN: "Choose at least one of the lists shown.",
        _FR: "Choisissez au moins une des listes proposées.",
        _ES: "Elija al menos una de las listas propuestas.",
    },
    "error_consent": {
        _EN: "Tick the consent box: we cannot write to you without your agreement.",
        _FR: "Cochez la case de consentement : nous ne pouvons pas vous écrire sans votre accord.",
        _ES: "Marque la casilla de consentimiento: no podemos escribirle sin su acuerdo.",
    },
    "requested_title": {
        _EN: "Please check your inbox",
        _FR: "Consultez votre boîte de réception",
        _ES: "Revise su bandeja de entrada",
    },
    "requested_body": {
        _EN: "Thank you. If {email} can receive our letters, a message is on its way to it. "
        "Lists that need a confirmation start only once you open the link in that message, "
        "within {expires}.",
        _FR: "Merci. Si l’adresse {email} peut recevoir nos lettres, un message est en route "
        "vers elle. Les listes qui demandent une confirmation ne commencent qu’une fois le lien "
        "de ce message ouvert, dans un délai de {expires}.",
        _ES: "Gracias. Si la dirección {email} puede recibir nuestras cartas, le hemos enviado "
        "un mensaje. Las listas que requieren confirmación solo empiezan cuando abra el enlace "
        "de ese mensaje, en un plazo de {expires}.",
    },
    "requested_spam": {
        _EN: "Nothing after a few minutes? Look in your spam folder, or check the address "
        "and try again.",
        _FR: "Rien après quelques minutes ? Regardez dans vos courriers indésirables, ou "
        "vérifiez l’adresse et réessayez.",
        _ES: "¿No ha llegado nada en unos minutos? Mire en la carpeta de correo no deseado, o "
        "compruebe la dirección y vuelva a intentarlo.",
    },
    "confirm_title": {
        _EN: "Confirm your subscription",
        _FR: "Confirmez votre abonnement",
        _ES: "Confirme su suscripción",
    },
    "confirm_body": {
        _EN: "Please confirm that you want to receive the following at {email}:",
        _FR: "Veuillez confirmer que vous souhaitez recevoir ce qui suit à l’adresse {email} :",
        _ES: "Confirme que desea recibir lo siguiente en la dirección {email}:",
    },
    "confirm_button": {
        _EN: "Confirm my subscription",
        _FR: "Confirmer mon abonnement",
        _ES: "Confirmar mi suscripción",
    },
    "confirmed_title": {
        _EN: "Your subscription is confirmed",
        _FR: "Votre abonnement est confirmé",
        _ES: "Su suscripción está confirmada",
    },
    "confirmed_body": {
        _EN: "Thank you. {email} will receive:",
        _FR: "Merci. L’adresse {email} recevra :",
        _ES: "Gracias. La dirección {email} recibirá:",
    },
    "confirmed_welcome": {
        _EN: "A welcome message is on its way to your inbox.",
        _FR: "Un message de bienvenue est en route vers votre boîte de réception.",
        _ES: "Un mensaje de bienvenida está en camino a su bandeja de entrada.",
    },
    "invalid_title": {
        _EN: "This link is not valid",
        _FR: "Ce lien n’est pas valide",
        _ES: "Este enlace no es válido",
    },
    "invalid_body": {
        _EN: "The link may have expired, already served its purpose, or been copied only in "
        "part. Check that you copied the whole address from the email.",
        _FR: "Le lien a peut-être expiré, déjà servi, ou n’a été copié qu’en partie. Vérifiez "
        "que vous avez copié l’adresse complète depuis l’e-mail.",
        _ES: "Es posible que el enlace haya caducado, que ya se haya utilizado o que se haya "
        "copiado solo en parte. Compruebe que ha copiado la dirección completa del correo.",
    },
    "subscribe_again_link": {
        _EN: "Subscribe to our news",
        _FR: "S’abonner à nos nouvelles",
        _ES: "Suscribirse a nuestras noticias",
    },
    "unsubscribe_title": {
        _EN: "Unsubscribe",
        _FR: "Se désabonner",
        _ES: "Darse de baja",
    },
    "unsubscribe_question": {
        _EN: "Do you want to stop receiving “{list}” at {email}?",
        _FR: "Souhaitez-vous ne plus recevoir « {list} » à l’adresse {email} ?",
        _ES: "¿Desea dejar de recibir «{list}» en la dirección {email}?",
    },
    "unsubscribe_already": {
        _EN: "{email} is not subscribed to “{list}” any more.",
        _FR: "L’adresse {email} n’est plus abonnée à « {list} ».",
        _ES: "La dirección {email} ya no está suscrita a «{list}».",
    },
    "unsubscribe_button": {
        _EN: "Unsubscribe from this list",
        _FR: "Me désabonner de cette liste",
        _ES: "Darme de baja de esta lista",
    },
    "unsubscribe_all_button": {
        _EN: "Unsubscribe from all our lists",
        _FR: "Me désabonner de toutes vos listes",
        _ES: "Darme de baja de todas sus listas",
    },
    "preferences_link": {
        _EN: "Choose what you receive on your preferences page",
        _FR: "Choisir ce que vous recevez sur votre page de préférences",
        _ES: "Elegir lo que recibe en su página de preferencias",
    },
    "unsubscribed_title": {
        _EN: "You have been unsubscribed",
        _FR: "Votre désabonnement est confirmé",
        _ES: "Se ha dado de baja",
    },
    "unsubscribed_list": {
        _EN: "{email} will no longer receive “{list}”.",
        _FR: "L’adresse {email} ne recevra plus « {list} ».",
        _ES: "La dirección {email} ya no recibirá «{list}».",
    },
    "unsubscribed_all": {
        _EN: "{email} will no longer receive any of our lists.",
        _FR: "L’adresse {email} ne recevra plus aucune de nos listes.",
        _ES: "La dirección {email} ya no recibirá ninguna de nuestras listas.",
    },
    "unsubscribed_mistake": {
        _EN: "Unsubscribed by mistake? You are welcome back:",
        _FR: "Un désabonnement par erreur ? Vous pouvez revenir :",
        _ES: "¿Se dio de baja por error? Puede volver:",
    },
    "resubscribe_button": {
        _EN: "Subscribe again to “{list}”",
        _FR: "Me réabonner à « {list} »",
        _ES: "Volver a suscribirme a «{list}»",
    },
    "resubscribed_title": {
        _EN: "Welcome back",
        _FR: "Bon retour parmi nous",
        _ES: "Le damos de nuevo la bienvenida",
    },
    "resubscribed_body": {
        _EN: "{email} will receive “{list}” again.",
        _FR: "L’adresse {email} recevra de nouveau « {list} ».",
        _ES: "La dirección {email} volverá a recibir «{list}».",
    },
    "blocked_body": {
        _EN: "This address cannot receive our letters at the moment. To change that, "
        "write to us at {email}.",
        _FR: "Cette adresse ne peut pas recevoir nos lettres pour le moment. Pour y remédier, "
        "écrivez-nous à {email}.",
        _ES: "Esta dirección no puede recibir nuestras cartas por ahora. Para cambiarlo, "
        "escríbanos a {email}.",
    },
    "preferences_title": {
        _EN: "Your preferences",
        _FR: "Vos préférences",
        _ES: "Sus preferencias",
    },
    "preferences_intro": {
        _EN: "Choose what {email} receives from the {unit}, and how we address you.",
        _FR: "Choisissez ce que l’adresse {email} reçoit de l’équipe {unit}, et comment nous "
        "nous adressons à vous.",
        _ES: "Elija lo que la dirección {email} recibe de la unidad {unit} y cómo nos "
        "dirigimos a usted.",
    },
    "preferences_lists": {
        _EN: "What you receive",
        _FR: "Ce que vous recevez",
        _ES: "Lo que recibe",
    },
    "preferences_save": {
        _EN: "Save my preferences",
        _FR: "Enregistrer mes préférences",
        _ES: "Guardar mis preferencias",
    },
    "preferences_saved": {
        _EN: "Your preferences have been saved.",
        _FR: "Vos préférences ont été enregistrées.",
        _ES: "Sus preferencias se han guardado.",
    },
    "data_title": {
        _EN: "Your data",
        _FR: "Vos données",
        _ES: "Sus datos",
    },
    "export_intro": {
        _EN: "Download everything we hold about you (your subscriptions and the record of "
        "your consent) as a JSON file.",
        _FR: "Téléchargez tout ce que nous conservons sur vous (vos abonnements et "
        "l’historique de votre consentement) dans un fichier JSON.",
        _ES: "Descargue todo lo que guardamos sobre usted (sus suscripciones y el registro de "
        "su consentimiento) en un archivo JSON.",
    },
    "export_button": {
        _EN: "Download my data",
        _FR: "Télécharger mes données",
        _ES: "Descargar mis datos",
    },
    "erase_title": {
        _EN: "Erase my data",
        _FR: "Effacer mes données",
        _ES: "Borrar mis datos",
    },
    "erase_intro": {
        _EN: "This deletes your name, your subscriptions and your consent history. We keep only "
        "a one-way fingerprint of your address, so that we never write to it again. This "
        "cannot be undone.",
        _FR: "Cette action supprime votre nom, vos abonnements et l’historique de votre "
        "consentement. Nous ne gardons qu’une empreinte irréversible de votre adresse, afin de "
        "ne plus jamais vous écrire. Elle est définitive.",
        _ES: "Esto borra su nombre, sus suscripciones y el historial de su consentimiento. Solo "
        "conservamos una huella irreversible de su dirección, para no volver a escribirle "
        "nunca. No se puede deshacer.",
    },
    "erase_confirm": {
        _EN: "Yes, erase all my data and never write to me again",
        _FR: "Oui, effacez toutes mes données et ne m’écrivez plus jamais",
        _ES: "Sí, borren todos mis datos y no vuelvan a escribirme",
    },
    "erase_button": {
        _EN: "Erase my data",
        _FR: "Effacer mes données",
        _ES: "Borrar mis datos",
    },
    "error_erase_confirm": {
        _EN: "Tick the box to confirm that you want your data erased.",
        _FR: "Cochez la case pour confirmer que vous voulez effacer vos données.",
        _ES: "Marque la casilla para confirmar que desea borrar sus datos.",
    },
    "erased_title": {
        _EN: "Your data has been erased",
        _FR: "Vos données ont été effacées",
        _ES: "Sus datos se han borrado",
    },
    "erased_body": {
        _EN: "We no longer hold any personal data about you, and we will not write to you again.",
        _FR: "Nous ne conservons plus aucune donnée personnelle vous concernant et ne vous "
        "écrirons plus.",
        _ES: "Ya no guardamos ningún dato personal suyo y no volveremos a escribirle.",
    },
    "error_title": {
        _EN: "Something is not right",
        _FR: "Quelque chose ne va pas",
        _ES: "Algo no va bien",
    },
    "error_csrf": {
        _EN: "This form has expired or was sent from another page. Go back, reload the page "
        "and try again.",
        _FR: "Ce formulaire a expiré ou a été envoyé depuis une autre page. Revenez en arrière, "
        "rechargez la page et réessayez.",
        _ES: "Este formulario ha caducado o se envió desde otra página. Vuelva atrás, recargue "
        "la página e inténtelo de nuevo.",
    },
    "error_rate": {
        _EN: "Too many requests from your connection. Wait a few minutes and try again.",
        _FR: "Trop de demandes depuis votre connexion. Patientez quelques minutes et réessayez.",
        _ES: "Demasiadas solicitudes desde su conexión. Espere unos minutos y vuelva a intentarlo.",
    },
    "error_form": {
        _EN: "The form could not be read. Go back and try again.",
        _FR: "Le formulaire n’a pas pu être lu. Revenez en arrière et réessayez.",
        _ES: "No se pudo leer el formulario. Vuelva atrás e inténtelo de nuevo.",
    },
    "error_method": {
        _EN: "This address answers a button on one of our pages and has nothing to show on "
        "its own. Open the link in our email again.",
        _FR: "Cette adresse répond à un bouton de nos pages et n’a rien à afficher seule. "
        "Ouvrez à nouveau le lien de notre e-mail.",
        _ES: "Esta dirección responde a un botón de nuestras páginas y no muestra nada por sí "
        "sola. Vuelva a abrir el enlace de nuestro correo.",
    },
    "contact": {
        _EN: "Questions? Write to us at {email}.",
        _FR: "Des questions ? Écrivez-nous à {email}.",
        _ES: "¿Preguntas? Escríbanos a {email}.",
    },
}


_UNITS: Mapping[str, tuple[tuple[int, str, str], ...]] = {
    _EN: ((86400, "day", "days"), (3600, "hour", "hours"), (60, "minute", "minutes")),
    _FR: ((86400, "jour", "jours"), (3600, "heure", "heures"), (60, "minute", "minutes")),
    _ES: ((86400, "día", "días"), (3600, "hora", "horas"), (60, "minuto", "minutos")),
}


def duration(seconds: int, language: str) -> str:
    """``3 days``, ``36 hours``, ``1 minute``: the largest unit that divides evenly, else
    minutes rounded up."""
    units = _UNITS[language]
    size, one, many = next((unit for unit in units if seconds % unit[0] == 0), units[-1])
    count = max(1, -(-seconds // size))
    return f"{count} {one if count == 1 else many}"


@dataclass(frozen=True)
class Translator:
    """``t("key", name=value)``: the string in this language with its placeholders filled."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        return CATALOGUE[key][self.language].format(**values)


def ours(tag: str | None) -> str | None:
    """The language of ``tag`` (``fr-CA`` is ``fr``) if it is one of ours, else None."""
    primary = (tag or "").partition("-")[0].strip().lower()
    return primary if primary in LANGUAGES else None


def negotiate(*, requested: str | None, preferred: str | None, accept_language: str | None) -> str:
    """The page language: ?lang= first, then the person's own, then the browser's."""
    return ours(requested) or ours(preferred) or _from_accept_language(accept_language or "")


def _from_accept_language(header: str) -> str:
    """The best of our languages by the browser's q-values (RFC 9110 12.5.4)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, parameters = item.partition(";")
        primary = ours(tag)
        if primary is None:
            continue
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        # Earlier entries win ties, as the browser listed them in order of preference.
        quality -= position * 1e-6
        if quality > best_q:
            best, best_q = primary, quality
    return best
