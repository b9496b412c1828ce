"""Dashboard pages for people: onboarding, create a video (paste → preview → generate),
workspace switcher. Views check the role, validate with a form and call one service."""
from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.ingest.errors import IngestError
from catalog.models import Product
from catalog.services import product_ingest
from generation.jobs.errors import QueueUnavailable
from generation.jobs.models import VideoJob
from tenancy.middleware import SESSION_KEY
from tenancy.models import Brand, Membership
from tenancy.services import InsufficientCredits, credit_balance, workspace_create

from .access import EDIT, VIEW, role_required
from .forms import GenerateForm, PasteLinkForm, PreviewForm, template_choices
from .services import clean_text, credit_estimate, product_preview_update, video_batch_create

logger = logging.getLogger(__name__)


def onboarding_steps(workspace) -> list[dict]:
    brand = Brand.objects.order_by("pk").first()
    jobs = VideoJob.objects.all()
    return [
        {"label": "Set up your brand kit (logo, colours, voice)", "done": bool(brand and brand.logo),
         "url": "dashboard:brand"},
        {"label": "Paste your first product link", "done": Product.objects.exists(), "url": "dashboard:create"},
        {"label": "Watch your first video", "done": jobs.filter(status=VideoJob.Status.SUCCEEDED).exists(),
         "url": "dashboard:library"},
    ]


@role_required(VIEW)
def home(request):
    if not VideoJob.objects.exists():
        return redirect("dashboard:onboarding")
    return redirect("dashboard:library")


@role_required(VIEW)
def onboarding(request):
    steps = onboarding_steps(request.workspace)
    return render(request, "dashboard/onboarding.html", {"steps": steps, "all_done": all(s["done"] for s in steps)})


@login_required
def no_workspace(request):
    """Signed in but in no workspace (e.g. an invite that was not accepted): make one."""
    if request.method == "POST":
        name = clean_text(request.POST.get("name", ""), limit=120)
        if name:
            workspace = workspace_create(name=name, owner=request.user)
            request.session[SESSION_KEY] = workspace.pk
            return redirect("dashboard:onboarding")
        messages.error(request, "Give your workspace a name.")
    return render(request, "dashboard/no_workspace.html")


@require_POST
@login_required
def workspace_switch(request):
    wanted = request.POST.get("workspace", "")
    membership = Membership.objects.filter(user=request.user, workspace_id=int(wanted)).first() \
        if wanted.isdigit() else None
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("dashboard:home")


@role_required(EDIT, write_only=True)
def create(request):
    """Step 1: paste a link; the product is read now so it can be checked before spending."""
    form = PasteLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = product_ingest(workspace=request.workspace, url=form.cleaned_data["product_url"])
        except IngestError as exc:
            form.add_error("product_url", exc.message)
        else:
            return redirect("dashboard:preview", pk=product.pk)
    recent = Product.objects.order_by("-updated_at")[:6]
    return render(request, "dashboard/create.html", {"form": form, "recent": recent,
                                                     "credits": credit_balance(workspace=request.workspace)})


def _product_or_404(pk: int) -> Product:
    product = Product.objects.filter(pk=pk).first()  # current workspace only (+ RLS)
    if product is None:
        raise Http404
    return product


@role_required(EDIT, write_only=True)
def preview(request, pk: int):
    """Step 2: correct the product, choose brand/template/aspects/etc., see the estimate, generate."""
    product = _product_or_404(pk)
    brand = Brand.objects.order_by("pk").first()
    initial = {"title": product.title, "price": product.price, "features": "\n".join(product.features or []),
               "main_image": getattr(product.images.order_by("position").first(), "pk", None)}
    fix = PreviewForm(request.POST or None, product=product, initial=initial)
    gen = GenerateForm(request.POST or None, brand_initial=brand)
    if request.method == "POST" and not product.images.exists():
        fix.add_error(None, "This product has no usable picture, so no video can be made: try another link.")
    if request.method == "POST" and fix.is_valid() and gen.is_valid():
        d, g = fix.cleaned_data, gen.cleaned_data
        product_preview_update(workspace=request.workspace, product=product, title=d["title"], price=d["price"],
                               features=d["features"], main_image_id=d["main_image"], actor=request.user)
        try:
            jobs = video_batch_create(
                workspace=request.workspace, brand=g["brand"], product=product, template=g["template"],
                aspects=g["aspects"], language=g["language"], duration_s=g["duration_s"], variants=g["variants"],
                voice=g["voice"], framework=g["framework"], music=g["music"], created_by=request.user)
        except InsufficientCredits:
            gen.add_error(None, "Your workspace does not have enough credits for this many videos.")
        except QueueUnavailable as exc:
            gen.add_error(None, exc.message)
        else:
            return redirect("dashboard:job", pk=jobs[0].pk) if len(jobs) == 1 else \
                redirect(f"{_url('dashboard:library')}?batch={','.join(str(j.pk) for j in jobs)}")
    templates = [{"name": n, "label": label} for n, label in template_choices()]
    return render(request, "dashboard/preview.html", {
        "product": product, "images": product.images.order_by("position"), "fix": fix, "gen": gen,
        "templates": templates, "rejected": product.rejected_facts or [],
        "credits": credit_balance(workspace=request.workspace), "per_video": credit_estimate(aspects=["x"], variants=1)})


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


@login_required
def template_preview(request, name: str):
    """The built-in template thumbnails (generation/video/templates/previews/*.jpg)."""
    from django.http import FileResponse

    from generation.video.timeline import TEMPLATES_DIR

    if name not in dict(template_choices()):
        raise Http404
    path = TEMPLATES_DIR / "previews" / f"{name}.jpg"
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@role_required(VIEW)
def product_image(request, pk: int, image_pk: int):
    """A stored product picture of this workspace (never a public media URL)."""
    from django.http import FileResponse

    product = _product_or_404(pk)
    image = product.images.filter(pk=image_pk).first()
    if image is None or not image.file:
        raise Http404
    return FileResponse(image.file.open("rb"))
