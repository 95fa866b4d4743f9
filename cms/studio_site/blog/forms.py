from django import forms

# The same limit as Comment.body; a plain form, so the models can use it without a cycle.
COMMENT_MAX_LENGTH = 4000


class CommentForm(forms.Form):
    body = forms.CharField(label="Your comment", max_length=COMMENT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 4}))
