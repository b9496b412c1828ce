"""Dashboard forms. Every user input is validated here; views only call services."""
from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.conf import settings

from generation.jobs.services import ASPECTS
from tenancy.models import ApiKey, Brand, Membership

from .services import MAX_JOBS_PER_BATCH, clean_text

LANGUAGES = [("en", "English"), ("zh", "Chinese (Mandarin)")]
# The create page's language: empty = auto, resolved at ingest from the product (LANGUAGE_AUTO).
CREATE_LANGUAGES = [("", "Auto (from the product)"), *LANGUAGES]
# Music option the pipeline applies (`_with_music_choice`): empty = the template's music bed.
MUSIC_CHOICES = [("", "Template default"), ("upbeat", "Upbeat"), ("calm", "Calm"), ("bold", "Bold"),
                 ("none", "No music")]
# What the brand kit's voice field accepts (and the voice-sample view): a TTS voice name.
VOICE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,80}")
VOICE_NAME_ERROR = "A voice name is letters, digits, '-', '_' or '.'."
# Voices every install can speak (espeak-ng): offered next to the brand's own voice.
VOICE_SUGGESTIONS = ["en-us", "en-gb", "cmn"]
DURATIONS = [(8, "8 seconds"), (15, "15 seconds"), (30, "30 seconds")]
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
FONTS = ["Inter", "Noto Sans CJK SC", "DejaVu Sans"]
# Logo limits, passed to the shared validator (tenancy.uploads.image_upload_validate).
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 4096 * 4096


def framework_choices() -> list[tuple[str, str]]:
    from generation.scripts.frameworks import FRAMEWORK_NAMES

    return [("", "Template default")] + [(name, name.replace("_", " ").capitalize()) for name in FRAMEWORK_NAMES]


def clean_voice_name(value: str) -> str:
    """A voice name as the brand kit stores it ("" = default); ValidationError otherwise."""
    voice = clean_text(value or "", limit=80)
    if voice and not VOICE_NAME.fullmatch(voice):
        raise forms.ValidationError(VOICE_NAME_ERROR)
    return voice


def template_choices() -> list[tuple[str, str]]:
    from generation.video import list_templates

    return [(name, name.replace("_", " ").title()) for name in list_templates()]


class PasteLinkForm(forms.Form):
    product_url = forms.URLField(label="Product link", max_length=2000, assume_scheme="https",
                                 widget=forms.URLInput(attrs={"placeholder": "https://shop.example/products/...",
                                                              "autocomplete": "url"}))


class PreviewForm(forms.Form):
    """The user's corrections of what was extracted."""

    title = forms.CharField(max_length=500, error_messages={"required": "A product needs a title."})
    price = forms.DecimalField(required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2)
    features = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}),
                               help_text="One feature per line.")
    main_image = forms.TypedChoiceField(required=False, coerce=int, widget=forms.RadioSelect, empty_value=None)

    def __init__(self, *args, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["main_image"].choices = [(img.pk, f"Picture {i + 1}")
                                             for i, img in enumerate(product.images.order_by("position"))]

    def clean_title(self):
        title = clean_text(self.cleaned_data["title"], limit=500)
        if not title:
            raise forms.ValidationError("A product needs a title.")
        return title

    def clean_features(self):
        return [line for line in (clean_text(x, limit=300) for x in self.cleaned_data["features"].splitlines()) if line]


class GenerateForm(forms.Form):
    brand = forms.ModelChoiceField(queryset=Brand.unscoped.none(), empty_label=None)
    template = forms.ChoiceField(choices=(), widget=forms.RadioSelect)
    aspects = forms.MultipleChoiceField(choices=[(a, a) for a in ASPECTS], widget=forms.CheckboxSelectMultiple,
                                        error_messages={"required": "Pick at least one aspect."})
    language = forms.ChoiceField(choices=CREATE_LANGUAGES, required=False,
                                 help_text="Auto picks the product page's language (a Chinese page gets a Chinese voice).")
    voice = forms.CharField(required=False, max_length=80,
                            help_text="Empty = the brand's voice. Any voice the brand kit accepts (e.g. en-us, en-gb, cmn).",
                            widget=forms.TextInput(attrs={"list": "voice-options", "autocomplete": "off"}))
    framework = forms.ChoiceField(label="Script framework", choices=(), required=False)
    music = forms.ChoiceField(choices=MUSIC_CHOICES, required=False)
    duration_s = forms.TypedChoiceField(label="Duration", choices=DURATIONS, coerce=int, initial=15)
    variants = forms.IntegerField(min_value=1, max_value=4, initial=1,
                                  help_text="Different scripts of the same product.")

    def __init__(self, *args, brand_initial: Brand | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = Brand.objects.order_by("name")  # current workspace only (+ RLS)
        self.fields["template"].choices = template_choices()
        self.fields["framework"].choices = framework_choices()
        self.fields["language"].initial = ""  # auto
        if brand_initial is not None:
            self.fields["brand"].initial = brand_initial.pk
            self.fields["template"].initial = brand_initial.default_template
            # Empty = the chosen brand's voice (stays right when the user picks another brand).
            self.fields["voice"].widget.attrs["placeholder"] = brand_initial.voice or "the brand's voice"
            self.fields["aspects"].initial = brand_initial.default_aspects or ["9:16"]

    def voice_options(self) -> list[str]:
        """Suggestions for the voice box: every brand's voice of this workspace, then the built-in ones."""
        seen: list[str] = []
        for voice in [*Brand.objects.exclude(voice="").order_by("name").values_list("voice", flat=True),
                      *VOICE_SUGGESTIONS]:
            if voice not in seen:
                seen.append(voice)
        return seen

    def clean_voice(self):
        return clean_voice_name(self.cleaned_data.get("voice", ""))

    def clean(self):
        data = super().clean()
        if len(data.get("aspects") or []) * (data.get("variants") or 1) > MAX_JOBS_PER_BATCH:
            raise forms.ValidationError(f"At most {MAX_JOBS_PER_BATCH} videos at once.")
        return data


def _hex_field(label: str) -> forms.CharField:
    return forms.CharField(label=label, max_length=7, widget=forms.TextInput(attrs={"type": "color"}))


class BrandKitForm(forms.ModelForm):
    primary_color = _hex_field("Primary colour")
    secondary_color = _hex_field("Secondary colour")
    accent_color = _hex_field("Accent colour")
    font_family = forms.ChoiceField(label="Font", choices=[(f, f) for f in FONTS])
    language = forms.ChoiceField(label="Default language", choices=LANGUAGES)
    default_template = forms.ChoiceField(choices=())
    default_aspects = forms.MultipleChoiceField(choices=[(a, a) for a in ASPECTS], required=False,
                                                widget=forms.CheckboxSelectMultiple)
    logo = forms.FileField(required=False, help_text="PNG, JPEG or WebP, at most 2 MB and 4096×4096 pixels.",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}))

    class Meta:
        model = Brand
        fields = ["name", "logo", "primary_color", "secondary_color", "accent_color", "font_family", "voice",
                  "tone", "language", "default_template", "default_aspects"]
        labels = {"voice": "Voice", "tone": "Tone words"}
        help_texts = {"voice": "Empty = the default voice for the language (e.g. en-us, en-gb, cmn).",
                      "tone": "e.g. friendly, bold, calm — also picks the music mood."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_template"].choices = template_choices()

    def clean(self):
        data = super().clean()
        for name in ("primary_color", "secondary_color", "accent_color"):
            if data.get(name) and not _HEX.match(data[name]):
                self.add_error(name, "Use a colour like #1F6FEB.")
        return data

    def clean_name(self):
        name = clean_text(self.cleaned_data["name"], limit=120)
        if not name:
            raise forms.ValidationError("A brand needs a name.")
        return name

    def clean_voice(self):
        return clean_voice_name(self.cleaned_data.get("voice", ""))

    def clean_tone(self):
        return clean_text(self.cleaned_data.get("tone", ""), limit=40) or "friendly"

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo or not hasattr(logo, "content_type"):  # unchanged or cleared
            return logo
        return logo_validate(logo)


def logo_validate(upload):
    """The shared upload validator (type by content, byte cap, pixel cap read from the header
    before any decode: decompression bombs) plus a logo's own minimum size."""
    from tenancy.uploads import ImageUploadError, image_upload_validate

    try:
        image = image_upload_validate(upload, max_bytes=LOGO_MAX_BYTES, max_pixels=LOGO_MAX_PIXELS)
    except ImageUploadError as exc:
        raise forms.ValidationError(exc.message, code=exc.code) from exc
    finally:
        upload.seek(0)
    if image.width < 16 or image.height < 16:
        raise forms.ValidationError("The logo must be at least 16×16 pixels.")
    upload.name = f"logo.{image.extension}"
    return upload


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(r, r.title()) for r in ("admin", "editor", "viewer")], initial="editor")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80)
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[s.value for s in ApiKey.Scope])

    def clean_name(self):
        name = clean_text(self.cleaned_data["name"], limit=80)
        if not name:
            raise forms.ValidationError("Name the key (e.g. 'Shopify sync').")
        return name


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), ("succeeded", "Ready"),
                                                        ("running", "Running"), ("queued", "Queued"),
                                                        ("failed", "Failed"), ("canceled", "Canceled")])
    aspect = forms.ChoiceField(required=False, choices=[("", "Any aspect")] + [(a, a) for a in ASPECTS])
    language = forms.ChoiceField(required=False, choices=[("", "Any language")] + LANGUAGES)
    brand = forms.ModelChoiceField(required=False, queryset=Brand.unscoped.none(), empty_label="Any brand")
    campaign = forms.ModelChoiceField(required=False, queryset=Brand.unscoped.none(), empty_label="Any campaign")

    def __init__(self, *args, **kwargs):
        from campaigns.models import Campaign

        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = Brand.objects.order_by("name")
        self.fields["campaign"].queryset = Campaign.objects.order_by("name")  # this workspace's (scoped + RLS)


def role_choices_for(membership: Membership) -> list[tuple[str, str]]:
    roles = ["admin", "editor", "viewer"] + (["owner"] if membership.role == "owner" else [])
    return [(r, r.title()) for r in roles]

