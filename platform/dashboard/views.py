"""Dashboard for people: paste a link, watch the job, play and download the video."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render

from api.videos import video_file_response
from generation.jobs.models import VideoJob
from generation.jobs.errors import QueueUnavailable
from generation.jobs.services import ASPECTS, video_job_create
from tenancy.models import Brand
from tenancy.services import InsufficientCredits, credit_balance


def _template_choices() -> list[tuple[str, str]]:
    from generation.video import list_templates

    return [(name, name.replace("_", " ").title()) for name in list_templates()]


class VideoForm(forms.Form):
    product_url = forms.URLField(max_length=2000, assume_scheme="https",
                                 widget=forms.URLInput(attrs={"placeholder": "https://shop.example/products/..."}))
    brand = forms.ModelChoiceField(queryset=Brand.unscoped.none(), empty_label=None)
    template = forms.ChoiceField(choices=())
    aspect = forms.ChoiceField(choices=[(a, a) for a in ASPECTS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        brands = Brand.objects.order_by("name")  # current workspace only
        self.fields["brand"].queryset = brands
        self.fields["template"].choices = _template_choices()
        first = brands.first()
        if first is not None:
            self.fields["template"].initial = first.default_template


def _require_workspace(request):
    if request.workspace is None:
        raise Http404("You are not a member of any workspace.")


@login_required
def home(request):
    _require_workspace(request)
    form = VideoForm(request.POST or None)
    if request.method == "POST":
        if not request.membership.can_edit:
            return HttpResponseForbidden("Viewers cannot create videos.")
        if form.is_valid():
            try:
                job = video_job_create(
                    workspace=request.workspace, brand=form.cleaned_data["brand"],
                    product_url=form.cleaned_data["product_url"], template=form.cleaned_data["template"],
                    aspect=form.cleaned_data["aspect"], created_by=request.user)
            except InsufficientCredits:
                messages.error(request, "Your workspace has no credits left.")
            except QueueUnavailable as exc:
                messages.error(request, exc.message)
            else:
                return redirect("dashboard:job", pk=job.pk)
    jobs = VideoJob.objects.select_related("brand").order_by("-created_at")[:20]
    return render(request, "dashboard/home.html", {
        "form": form, "jobs": jobs, "credits": credit_balance(workspace=request.workspace)})


def _job_or_404(request, pk: int) -> VideoJob:
    """The job if it belongs to the request's workspace (scoped manager + RLS), else 404."""
    _require_workspace(request)
    job = VideoJob.objects.filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@login_required
def job_detail(request, pk: int):
    return render(request, "dashboard/job.html", {"job": _job_or_404(request, pk)})


@login_required
def job_status(request, pk: int):
    job = _job_or_404(request, pk)
    return JsonResponse({
        "status": job.status, "stage": job.stage, "progress": job.progress,
        "failure_reason": job.failure_reason, "finished": job.is_finished,
        "has_video": "video" in job.outputs,
    })


@login_required
def job_file(request, pk: int, name: str):
    _require_workspace(request)
    return video_file_response(job=VideoJob.objects.filter(pk=pk).first(), name=name)
